//! Every endpoint, the submission outcomes, and bad input answered with typed errors.

use ebl_core::api::{Head, HistoryEntry, SubmitOutcome};
use ebl_core::testkit::loan;
use ebl_core::{Action, CertifiedStatement, Hash, SignedBlockHeader, StatementBinding, Status};

use crate::support::{assert_accepted, assert_rejected, TestNode};

#[test]
fn a_trade_through_every_endpoint() {
    let mut node = TestNode::start();
    let bill = node.issue("API-1");
    let c = node.cast.clone();
    assert_accepted(&node.act(
        Action::EndorseToOrder {
            bill,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    ));
    assert_accepted(&node.act(
        Action::Transfer {
            bill,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    ));
    let pledge = node.act(
        Action::Pledge {
            bill,
            pledgee: c.bank.id,
            loan: loan("L-1", 10_000),
        },
        &[&c.buyer.key, &c.bank.key],
    );
    assert_accepted(&pledge);

    // The bill, as its possessor sees it, with the DCSA document.
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}"), &c.bank.key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bill"]["possessor"], c.bank.id.to_hex());
    assert_eq!(body["document"]["transportDocumentReference"], "API-1");

    // History: four transactions with receipts whose proofs verify against the block headers.
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}/history"), &c.buyer.key);
    assert_eq!(status, 200, "{body}");
    let history: Vec<HistoryEntry> = serde_json::from_value(body).expect("history");
    assert_eq!(
        history
            .iter()
            .map(|h| h.transaction.body.action.code())
            .collect::<Vec<_>>(),
        ["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER", "PLEDGE"]
    );
    let genesis = node.get("/v1/genesis").1;
    let node_key: ebl_core::PartyKey = genesis["genesis"]["members"][0]["node"]
        .as_str()
        .and_then(|k| k.parse().ok())
        .expect("node key");
    let (status, body) = node.get_as("/v1/registry/history", &c.operator);
    assert_eq!(status, 200, "{body}");
    let registry: Vec<HistoryEntry> = serde_json::from_value(body).expect("registry");
    for entry in &history {
        let (status, block) =
            node.get_as(&format!("/v1/blocks/{}", entry.receipt.height), &c.operator);
        assert_eq!(status, 200);
        let header: SignedBlockHeader =
            serde_json::from_value(block["header"].clone()).expect("header");
        // A format-5 chain: each header is signed over the registry head before its block.
        let before = registry
            .iter()
            .rev()
            .find(|e| e.receipt.height < entry.receipt.height)
            .map_or(header.header.chain, |e| e.transaction.id());
        header
            .verify(&node_key, ebl_core::HeaderBinding::Registry(before))
            .expect("node signed the block");
        entry
            .receipt
            .verify(&header.header)
            .expect("inclusion proof");
    }

    // The node-signed status statement: the freshness proof. A format-7 chain: the statement is
    // signed over the registry head now (the one member's node is the whole finality quorum).
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}/status"), &c.bank.key);
    assert_eq!(status, 200, "{body}");
    let statement: CertifiedStatement = serde_json::from_value(body).expect("statement");
    assert_eq!(statement.signatures.len(), 1, "{statement:?}");
    assert_eq!(statement.signatures[0].signer, node_key);
    let registry_head = registry
        .last()
        .map_or(statement.statement.chain, |e| e.transaction.id());
    // From chain format 8 also over the registry's root, which the registry the node serves gives.
    let parties: Vec<ebl_core::Party> =
        serde_json::from_value(node.get_as("/v1/parties", &c.bank.key).1).expect("parties");
    let genesis: ebl_core::Genesis =
        serde_json::from_value(node.get("/v1/genesis").1["genesis"].clone()).expect("genesis");
    let empty = ebl_core::Registry::new(&genesis);
    let root = ebl_core::Registry::from_parts(
        empty.state().clone(),
        empty.formats().clone(),
        empty.stated_faults(),
        parties,
    )
    .root();
    assert!(
        StatementBinding::Committed {
            head: registry_head,
            root
        }
        .verifies(&statement.statement, &statement.signatures[0]),
        "statement signature"
    );
    assert!(matches!(statement.statement.status, Status::Pledged(ref p) if p.pledgee == c.bank.id));
    let head: Head = serde_json::from_value(node.get("/v1/head").1).expect("head");
    assert_eq!(statement.statement.height, head.height);
    assert_eq!(head.transactions, 7 + 4);

    // A single transaction, the registry, parties by name and id, health, metrics.
    let (status, body) = node.get_as(&format!("/v1/transactions/{}", pledge.id()), &c.bank.key);
    assert_eq!(
        (
            status,
            body["transaction"]["body"]["action"]["PLEDGE"]["pledgee"].as_str()
        ),
        (200, Some(c.bank.id.to_hex().as_str()))
    );
    let (status, body) = node.get_as("/v1/registry/history", &c.operator);
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(7)));
    // The seven parties of the cast; the operator is the one member's admin, no party.
    let (status, body) = node.get_as("/v1/parties", &c.operator);
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(7)));
    let (status, body) = node.get_as("/v1/parties/First%20Bank", &c.operator);
    assert_eq!(
        (status, body["id"].as_str()),
        (200, Some(c.bank.id.to_hex().as_str()))
    );
    let (status, body) = node.get_as(&format!("/v1/parties/{}", c.carrier.id), &c.operator);
    assert_eq!(
        (status, body["profile"]["name"].as_str()),
        (200, Some("Mediterranean Shipping"))
    );
    assert_eq!(
        node.get_as("/v1/parties/Nobody", &c.operator).1["error"]["code"],
        "unknown_party"
    );
    let (status, body) = node.get("/v1/health");
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    // Metrics live on a listener of their own: the API serves none.
    assert_eq!(node.get("/metrics").0, 404);
    let metrics = node.metrics();
    assert!(
        metrics.contains("ebl_transactions_accepted_total 11"),
        "{metrics}"
    );
    assert!(metrics.contains("ebl_fsync_seconds_count"), "{metrics}");
}

#[test]
fn resubmission_is_idempotent() {
    let mut node = TestNode::start();
    let bill = node.issue("IDEM-1");
    let c = node.cast.clone();
    let head = node.head_of(&bill);
    let tx = node.sign(
        head,
        Action::Transfer {
            bill,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    );
    let first = node.submit(&tx);
    assert_accepted(&first);
    let before: Head = serde_json::from_value(node.get("/v1/head").1).expect("head");
    let again = node.submit(&tx);
    match (&first, &again) {
        (
            SubmitOutcome::Accepted { receipt: a, .. },
            SubmitOutcome::Duplicate { receipt: b, .. },
        ) => assert_eq!(a, b),
        other => panic!("expected the original receipt: {other:?}"),
    }
    // Also inside a batch, and twice in one batch.
    let results = node.batch(&[tx.clone(), tx.clone()]).expect("batch");
    assert!(
        matches!(results[0], SubmitOutcome::Duplicate { .. }),
        "{results:?}"
    );
    assert!(
        matches!(results[1], SubmitOutcome::Duplicate { .. }),
        "{results:?}"
    );
    let after: Head = serde_json::from_value(node.get("/v1/head").1).expect("head");
    assert_eq!(before, after, "a resubmission changed the ledger");
}

/// A new bill and two transfers by its holder, to Buyer One and to Buyer Two, both from its issue:
/// only one of them can be ordered.
fn two_transfers_from_one_head(
    node: &mut TestNode,
    reference: &str,
) -> (
    ebl_core::BillId,
    ebl_core::SignedTransaction,
    ebl_core::SignedTransaction,
) {
    let bill = node.issue(reference);
    let c = node.cast.clone();
    let head = node.head_of(&bill);
    let to = |party| Action::Transfer { bill, to: party };
    let to_buyer = node.sign(head, to(c.buyer.id), &[&c.shipper.key]);
    let to_buyer2 = node.sign(head, to(c.buyer2.id), &[&c.shipper.key]);
    (bill, to_buyer, to_buyer2)
}

#[test]
fn two_conflicting_transactions_in_one_batch_one_wins() {
    let mut node = TestNode::start();
    let (bill, to_buyer, to_buyer2) = two_transfers_from_one_head(&mut node, "RACE-1");
    let c = node.cast.clone();
    let results = node.batch(&[to_buyer, to_buyer2]).expect("batch");
    assert_accepted(&results[0]);
    assert_rejected(&results[1], "stale_head");
    let (_, body) = node.get_as(&format!("/v1/bills/{bill}"), &c.shipper.key);
    assert_eq!(body["bill"]["possessor"], c.buyer.id.to_hex());
}

/// The binary batch (issue 18): the same ordering, rules and receipts as JSON, in codec bytes.
#[test]
fn a_binary_batch_is_ordered_like_json_and_answered_in_binary_receipts() {
    let mut node = TestNode::start();
    let (_, to_buyer, to_buyer2) = two_transfers_from_one_head(&mut node, "BIN-1");
    let c = node.cast.clone();
    let results = node
        .batch_binary(&[to_buyer.clone(), to_buyer2])
        .expect("binary batch");
    assert_accepted(&results[0]);
    assert_rejected(&results[1], "stale_head");
    // The receipt proves inclusion in the block the node serves, as a JSON receipt does.
    let SubmitOutcome::Accepted { receipt, .. } = &results[0] else {
        panic!("{results:?}");
    };
    let (_, block) = node.get_as(&format!("/v1/blocks/{}", receipt.height), &c.shipper.key);
    let header: ebl_core::SignedBlockHeader =
        serde_json::from_value(block["header"].clone()).expect("header");
    receipt.verify(&header.header).expect("inclusion proof");
    // Resubmitted as JSON: the same transaction, a duplicate with the same receipt.
    let again = node.batch(&[to_buyer]).expect("json batch");
    match &again[0] {
        SubmitOutcome::Duplicate { receipt: r, .. } => assert_eq!(r, receipt),
        other => panic!("{other:?}"),
    }
    // Garbage in the binary form is refused whole, with the codec's code, and changes nothing.
    let before = node.get("/v1/head").1;
    for (body, code) in [
        (b"EBB1".to_vec(), "malformed_encoding"),
        (b"XXXX\x01\0\0\0\x01\0\0\0a".to_vec(), "malformed_encoding"),
        (
            [&b"EBB1"[..], &u32::MAX.to_le_bytes()].concat(),
            "encoding_too_large",
        ),
    ] {
        let (status, answer) =
            node.post_raw("/v1/batches", ebl_core::wire::BATCH_MEDIA_TYPE, &body);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (400, Some(code)),
            "{answer}"
        );
    }
    assert_eq!(node.get("/v1/head").1, before);
}

#[test]
fn rule_refusals_carry_their_codes() {
    let mut node = TestNode::start();
    let bill = node.issue("RULE-1");
    let c = node.cast.clone();
    assert_rejected(
        &node.act(
            Action::Transfer {
                bill,
                to: c.buyer2.id,
            },
            &[&c.buyer.key],
        ),
        "not_possessor",
    );
    assert_rejected(
        &node.act(
            Action::Pledge {
                bill,
                pledgee: c.bank.id,
                loan: loan("L", 1),
            },
            &[&c.shipper.key],
        ),
        "missing_signature",
    );
    // Another chain's transaction.
    let head = node.head_of(&bill);
    let mut tx = node.sign(head, Action::Sign { bill }, &[&c.shipper.key]);
    tx.body.chain = Hash::of(b"elsewhere");
    let tx = tx.body.signed_by(&[&c.shipper.key]);
    assert_rejected(&node.submit(&tx), "wrong_chain");
    // A tampered signature.
    let mut tx = node.sign(head, Action::Sign { bill }, &[&c.shipper.key]);
    tx.signatures[0].signature.0[10] ^= 1;
    assert_rejected(&node.submit(&tx), "bad_signature");
    // None of it changed the bill.
    assert_eq!(node.head_of(&bill), head);
}

#[test]
fn bad_input_gets_a_typed_error_and_the_node_keeps_serving() {
    let mut node = TestNode::start();
    let bill = node.issue("BAD-1");
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "/v1/transactions",
            "application/json",
            b"{".to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/v1/transactions",
            "application/json",
            br#"{"body":1}"#.to_vec(),
            400,
            "malformed_json",
        ),
        (
            "/v1/transactions",
            "text/plain",
            b"hello".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "/v1/transactions",
            "application/octet-stream",
            vec![0xff; 13],
            400,
            "malformed_encoding",
        ),
        (
            "/v1/batches",
            "application/json",
            br#"{"transactions":[]}"#.to_vec(),
            400,
            "batch_size",
        ),
        (
            "/v1/batches",
            "application/x-www-form-urlencoded",
            b"a=b".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "/v2/transactions",
            "application/json",
            b"{}".to_vec(),
            404,
            "unknown_api_version",
        ),
    ];
    for (path, content_type, body, status, code) in cases {
        let (got, body) = node.post_raw(path, content_type, &body);
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{path} {content_type}: {body}"
        );
    }
    // Binary submission: the canonical bytes work, trailing bytes do not.
    let c = node.cast.clone();
    let head = node.head_of(&bill);
    let tx = node.sign(head, Action::Sign { bill }, &[&c.shipper.key]);
    let mut bytes = tx.encode();
    bytes.push(0);
    let (status, body) = node.post_raw("/v1/transactions", "application/octet-stream", &bytes);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("trailing_bytes"))
    );
    bytes.pop();
    let (status, body) = node.post_raw("/v1/transactions", "application/octet-stream", &bytes);
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    // Malformed ids and unknown things.
    assert_eq!(
        node.get_as("/v1/blocks/xyz", &c.operator).1["error"]["code"],
        "malformed_height"
    );
    assert_eq!(
        node.get_as("/v1/blocks/999", &c.operator).1["error"]["code"],
        "unknown_block"
    );
    assert_eq!(
        node.get_as("/v1/bills/zz", &c.shipper.key).1["error"]["code"],
        "malformed_id"
    );
    assert_eq!(
        node.get_as(&format!("/v1/bills/{}", Hash::of(b"none")), &c.shipper.key)
            .1["error"]["code"],
        "unknown_bill"
    );
    assert_eq!(node.get("/v1/nothing").1["error"]["code"], "not_found");
}

/// Issue 14: reading a bill's state, as the wallet does before it signs a transfer, walked the bill's
/// whole history from disk to return one head, and `status` loaded a history it threw away. The bill's
/// parties now read its state, its document and the node's statement without its history: with a
/// transaction in the middle of that history damaged on disk, those reads still answer, and the
/// history read is the one that finds the damage.
#[test]
fn regression_a_bills_state_is_read_without_its_history() {
    let mut node = TestNode::start();
    let bill = node.issue("STATE-ONLY");
    let c = node.cast.clone();
    let middle = node.act(
        Action::Transfer {
            bill,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    );
    assert_accepted(&middle);
    assert_accepted(&node.act(
        Action::Transfer {
            bill,
            to: c.buyer2.id,
        },
        &[&c.buyer.key],
    ));
    node.server.stop().expect("stop");
    {
        let store = ebl_store::LedgerStore::new(
            ebl_store::SledKv::open(&node.data().store()).expect("open"),
        );
        let stored = store
            .transaction(&middle.id())
            .expect("read")
            .expect("stored");
        let (offset, len) = store
            .log_position(stored.height, stored.index)
            .expect("position")
            .expect("in the log");
        use std::os::unix::fs::FileExt as _;
        let log = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(node.data().store().with_extension("log"))
            .expect("open log");
        let at = offset + len as u64 / 2;
        let mut byte = [0u8];
        log.read_exact_at(&mut byte, at).expect("read");
        log.write_all_at(&[byte[0] ^ 0x10], at).expect("damage");
    }
    node.server = crate::support::Server::open(&node.data(), node.settings).expect("reopen");
    node.client = crate::support::Client::new(&node.server.url, node.chain);
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}"), &c.buyer2.key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["bill"]["possessor"], c.buyer2.id.to_string(), "{body}");
    assert_eq!(
        body["document"]["transportDocumentReference"], "STATE-ONLY",
        "{body}"
    );
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}/status"), &c.buyer2.key);
    assert_eq!(status, 200, "{body}");
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}/history"), &c.buyer2.key);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (500, Some("storage_corrupt")),
        "{body}"
    );
}
