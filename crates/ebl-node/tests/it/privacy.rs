//! Only a bill's parties, operators and auditors read it; requests are signed and expire.

use ebl_core::testkit::key;
use ebl_core::Action;

use crate::support::{assert_accepted, now_ms, TestNode};

#[test]
fn only_the_bills_parties_may_read_it() {
    let mut node = TestNode::start();
    let bill = node.issue_to_buyer("PRIV-1");
    let c = node.cast.clone();
    let paths = [
        format!("/v1/bills/{bill}"),
        format!("/v1/bills/{bill}/history"),
        format!("/v1/bills/{bill}/status"),
        format!("/v1/transactions/{bill}"),
    ];
    for path in &paths {
        for (who, key) in [
            ("carrier", &c.carrier.key),
            ("shipper", &c.shipper.key),
            ("buyer", &c.buyer.key),
            ("operator", &c.operator),
            ("auditor", &c.auditor.key),
        ] {
            assert_eq!(node.get_as(path, key).0, 200, "{who} reads {path}");
        }
        // A competitor learns only that the bill exists.
        let (status, body) = node.get_as(path, &c.buyer2.key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
        assert!(!body.to_string().contains("PRIV-1"));
        let (status, body) = node.get_as(path, &c.bank.key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
    }
    // A past possessor keeps access: the shipper gave the bill away but is still one of its parties.
    assert_accepted(&node.act(
        Action::Transfer {
            bill,
            to: c.buyer2.id,
        },
        &[&c.buyer.key],
    ));
    assert_eq!(node.get_as(&paths[1], &c.shipper.key).0, 200);
    assert_eq!(node.get_as(&paths[1], &c.buyer2.key).0, 200);
}

/// Issue 11: a past possessor read the later holders, pledges and loan terms of a bill it had left.
#[test]
fn regression_former_parties_see_no_further() {
    let mut node = TestNode::start();
    let bill = node.issue("PRIV-3");
    let c = node.cast.clone();
    for (to, key) in [(c.buyer.id, &c.shipper.key), (c.buyer2.id, &c.buyer.key)] {
        assert_accepted(&node.act(Action::Transfer { bill, to }, &[key]));
    }
    let later = node.act(Action::Sign { bill }, &[&c.buyer2.key]);
    assert_accepted(&later);
    let later_id = later.id();
    // Buyer One's part ended with its transfer to Buyer Two: three entries, not the fourth.
    let (status, history) = node.get_as(&format!("/v1/bills/{bill}/history"), &c.buyer.key);
    assert_eq!((status, history.as_array().map(Vec::len)), (200, Some(3)));
    let (_, full) = node.get_as(&format!("/v1/bills/{bill}/history"), &c.buyer2.key);
    assert_eq!(full.as_array().map(Vec::len), Some(4));
    for path in [
        format!("/v1/bills/{bill}"),
        format!("/v1/bills/{bill}/status"),
    ] {
        let (status, body) = node.get_as(&path, &c.buyer.key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("former_party")),
            "{path}"
        );
    }
    let (status, _) = node.get_as(&format!("/v1/transactions/{later_id}"), &c.buyer.key);
    assert_eq!(
        status, 404,
        "a later transaction is not shown to a former party"
    );
    let (status, _) = node.get_as(&format!("/v1/transactions/{later_id}"), &c.buyer2.key);
    assert_eq!(status, 200);
}

/// Issue 11: parties, the registry and blocks were public; they are for registered readers now,
/// while health, the head and the genesis stay public.
#[test]
fn regression_listings_need_a_signed_read_by_a_registered_party() {
    let mut node = TestNode::start();
    node.issue("PRIV-4");
    let c = node.cast.clone();
    for path in [
        "/v1/parties",
        "/v1/parties/First%20Bank",
        "/v1/registry/history",
        "/v1/blocks/1",
    ] {
        let (status, body) = node.get(path);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "{path}"
        );
        assert_eq!(
            node.get_as(path, &key(99)).0,
            401,
            "a stranger's key: {path}"
        );
        assert_eq!(node.get_as(path, &c.buyer.key).0, 200, "{path}");
    }
    for path in ["/v1/health", "/v1/head", "/v1/genesis"] {
        assert_eq!(node.get(path).0, 200, "{path}");
    }
}

#[test]
fn reads_must_be_signed_fresh_and_by_a_registered_key() {
    let mut node = TestNode::start();
    let bill = node.issue("PRIV-2");
    let c = node.cast.clone();
    let path = format!("/v1/bills/{bill}");
    let (status, body) = node.get(&path);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let skew = ebl_node::limits::REQUEST_SKEW_MS_MAX;
    let (status, body) = node.get_signed_at(&path, &c.shipper.key, now_ms() - skew - 60_000);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("request_expired"))
    );
    let (status, body) = node.get_signed_at(&path, &c.shipper.key, now_ms() + skew + 60_000);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("request_expired"))
    );
    let inside = now_ms() - skew + 5_000;
    assert_eq!(
        node.get_signed_at(&path, &c.shipper.key, inside).0,
        200,
        "inside the skew"
    );
    // Issue 13: a captured signed read was accepted again, as often as wanted, for 10 minutes.
    let (status, body) = node.get_signed_at(&path, &c.shipper.key, inside);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("request_replayed")),
        "the same signed request a second time"
    );
    assert!(skew <= 30_000, "a skew of seconds, not minutes");
    let (status, body) = node.get_as(&path, &key(200));
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unknown_key"))
    );
    // A signature for another path does not open this one.
    let other = format!("/v1/bills/{bill}/history");
    let time = now_ms();
    let signature =
        ebl_core::api::sign_request(&c.shipper.key, &node.chain, "GET", &other, &[], time);
    let mut response = crate::support::agent()
        .get(&node.url(&path))
        .header(
            ebl_core::api::HEADER_KEY,
            &ebl_core::PartyKey::of(&c.shipper.key).to_hex(),
        )
        .header(ebl_core::api::HEADER_TIME, &time.to_string())
        .header(ebl_core::api::HEADER_SIGNATURE, &signature.to_string())
        .call()
        .expect("GET");
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.body_mut().read_json().expect("json");
    assert_eq!(body["error"]["code"], "bad_request_signature");
}

#[test]
fn each_party_lists_only_the_bills_it_has_a_part_in() {
    let mut node = TestNode::start();
    let first = node.issue("LIST-1");
    let second = node.issue("LIST-2");
    let c = node.cast.clone();
    assert_accepted(&node.act(
        Action::Transfer {
            bill: second,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    ));
    let ids = |who: &ebl_core::SigningKey| -> Vec<String> {
        let (status, body) = node.get_as("/v1/bills", who);
        assert_eq!(status, 200, "{body}");
        body.as_array()
            .expect("list")
            .iter()
            .map(|b| b["reference"].as_str().expect("reference").to_owned())
            .collect()
    };
    assert_eq!(ids(&c.shipper.key), ["LIST-1", "LIST-2"]);
    assert_eq!(ids(&c.buyer.key), ["LIST-2"]);
    assert!(ids(&c.bank.key).is_empty());
    assert_eq!(ids(&c.auditor.key), ["LIST-1", "LIST-2"]);
    assert_eq!(node.get("/v1/bills").0, 401, "the list is a signed read");
    let _ = first;
}

/// DCSA's Endorsement Chain API 3.0.4 schemas, as JSON Schema (derived mechanically; Apache 2.0).
const ENDORSEMENT_SCHEMA: &str = include_str!("../fixtures/dcsa/ebl-end-v3.0.4.bundle.schema.json");

#[test]
fn the_endorsement_chain_api_answers_the_bills_parties_and_nobody_else() {
    let mut node = TestNode::start();
    let bill = node.issue_to_buyer("CHAIN-1");
    let c = node.cast.clone();
    let path = "/v3/endorsement-chains/CHAIN-1";
    let validator = jsonschema::draft202012::new(
        &serde_json::from_str::<serde_json::Value>(ENDORSEMENT_SCHEMA).expect("schema"),
    )
    .expect("a valid schema");
    for (who, key) in [
        ("carrier", &c.carrier.key),
        ("shipper", &c.shipper.key),
        ("buyer", &c.buyer.key),
        ("auditor", &c.auditor.key),
    ] {
        let (status, chains) = node.get_as(path, key);
        assert_eq!(status, 200, "{who}: {chains}");
        let chain = &chains[0];
        let errors: Vec<String> = validator
            .iter_errors(chain)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{who}: {errors:#?}\n{chain}");
        assert_eq!(chain["transportDocumentReference"], "CHAIN-1");
        let codes: Vec<&str> = chain["endorsementChain"]
            .as_array()
            .expect("links")
            .iter()
            .filter_map(|l| l["actionCode"].as_str())
            .collect();
        assert_eq!(codes, ["ISSUE", "TRANSFER"], "{who}: {chain}");
    }
    // A competitor is told no such bill exists for it; an unsigned read is refused; so is a filter by a
    // version this ledger does not keep.
    let (status, body) = node.get_as(path, &c.buyer2.key);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_transport_document"))
    );
    assert!(!body.to_string().contains(&bill.to_string()));
    assert_eq!(node.get(path).0, 401);
    let versioned = format!("{path}?transportDocumentSubReference=Version_1");
    assert_eq!(node.get_as(&versioned, &c.buyer.key).0, 404);
}
