//! B. Misuse: each attempt refused with its named code, and the ledger unchanged.

use ebl_core::testkit::{self, key};
use ebl_core::{Action, Hash, PartyKey};
use ebl_tests::Market;

/// The bill's transaction count and head as the operator sees them: must not move on a refusal.
fn fingerprint(m: &Market, bill: &str) -> (u64, String) {
    let b = m.show("operator", bill);
    (
        b["transactions"].as_u64().expect("count"),
        b["head"].as_str().expect("head").to_owned(),
    )
}

#[test]
fn rule_breaking_actions_are_refused_and_change_nothing() {
    let m = Market::with_cast();
    let bill = m.issue("MIS-1");
    let straight_doc = m.document("MIS-2", Some("Buyer One"));
    let straight = m.json(
        "carrier",
        &[
            "bill",
            "issue",
            &straight_doc,
            "--to",
            "DCSA CTK",
            "--consignee",
            "Buyer One",
            "--as",
            "carrier",
        ],
    )["bill"]
        .as_str()
        .expect("bill")
        .to_owned();
    // Give buyer1 possession without title, so it can act and be refused by a rule.
    m.json(
        "shipper",
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
    let before = fingerprint(&m, &bill);
    m.refused(
        "shipper",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "shipper",
        ],
        3,
        "not_possessor",
    );
    m.refused(
        "shipper",
        &[
            "bill",
            "endorse",
            &straight,
            "--to",
            "Buyer Two",
            "--as",
            "shipper",
        ],
        3,
        "not_negotiable",
    );
    m.refused(
        "buyer1",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "buyer1",
        ],
        3,
        "no_title",
    );
    m.refused(
        "buyer1",
        &["bill", "surrender", &bill, "--as", "buyer1"],
        3,
        "no_title",
    );
    assert_eq!(fingerprint(&m, &bill), before);

    // Pledge rules.
    m.json(
        "buyer1",
        &[
            "bill", "transfer", &bill, "--to", "DCSA CTK", "--as", "buyer1",
        ],
    );
    let offer = m.path("offer.json");
    m.json(
        "shipper",
        &[
            "bill",
            "pledge",
            &bill,
            "--bank",
            "First Bank",
            "--amount",
            "1",
            "--loan",
            "L",
            "-o",
            &offer,
            "--as",
            "shipper",
        ],
    );
    // Without the bank's signature the holder's half is refused.
    let value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&offer).expect("offer")).expect("json");
    let half: ebl_core::SignedTransaction =
        serde_json::from_value(value["transaction"].clone()).expect("tx");
    let outcome = m.http().submit(&half).expect("answer");
    assert!(
        matches!(outcome, ebl_core::api::SubmitOutcome::Rejected { ref error, .. } if error.code == "missing_signature"),
        "{outcome:?}"
    );
    // A bank that is not the pledgee cannot accept the offer.
    let run = m.ebl(
        "bank2",
        &["--json", "bill", "pledge-accept", &offer, "--as", "bank2"],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (3, Some("not_pledgee"))
    );
    m.json("bank", &["bill", "pledge-accept", &offer, "--as", "bank"]);
    let pledged = fingerprint(&m, &bill);
    let offer2 = m.path("offer2.json");
    m.refused(
        "shipper",
        &[
            "bill",
            "pledge",
            &bill,
            "--bank",
            "Second Bank",
            "--amount",
            "1",
            "--loan",
            "L2",
            "-o",
            &offer2,
            "--as",
            "shipper",
        ],
        3,
        "already_pledged",
    );
    m.refused(
        "shipper",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "shipper",
        ],
        3,
        "pledged",
    );
    m.refused(
        "shipper",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "shipper",
        ],
        3,
        "pledged",
    );
    m.refused(
        "shipper",
        &["bill", "surrender", &bill, "--as", "shipper"],
        3,
        "pledged",
    );
    m.refused(
        "bank",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "bank",
        ],
        3,
        "pledged",
    );
    m.refused(
        "bank",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "bank",
        ],
        3,
        "pledged",
    );
    m.refused(
        "bank",
        &["bill", "surrender", &bill, "--as", "bank"],
        3,
        "pledged",
    );
    m.refused(
        "bank2",
        &["bill", "release", &bill, "--as", "bank2"],
        3,
        "not_a_party",
    );
    m.refused(
        "shipper",
        &["bill", "release", &bill, "--as", "shipper"],
        3,
        "not_pledgee",
    );
    m.refused(
        "shipper",
        &["bill", "enforce", &bill, "--as", "shipper"],
        3,
        "not_pledgee",
    );
    // A second pledge, even co-signed by another bank, is impossible.
    let head: Hash = pledged.1.parse().expect("head");
    let bill_id: Hash = bill.parse().expect("bill");
    let second = testkit::signed(
        m.chain,
        head,
        1,
        Action::Pledge {
            bill: bill_id,
            pledgee: m.id("Second Bank").parse().expect("id"),
            loan: testkit::loan("L3", 5),
        },
        &[&key(1)],
    );
    let outcome = m.http().submit(&second).expect("answer");
    assert!(
        matches!(outcome, ebl_core::api::SubmitOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    assert_eq!(fingerprint(&m, &bill), pledged);

    // Terminal: after SACC nothing moves.
    m.json("bank", &["bill", "release", &bill, "--as", "bank"]);
    m.json("shipper", &["bill", "surrender", &bill, "--as", "shipper"]);
    m.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    m.refused(
        "carrier",
        &["bill", "sign", &bill, "--as", "carrier"],
        3,
        "terminal",
    );
    m.refused(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
        3,
        "terminal",
    );
}

#[test]
fn issuing_rules_and_registry_keys() {
    let m = Market::with_cast();
    let doc = m.document("ISS-1", None);
    m.refused(
        "shipper",
        &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "shipper"],
        3,
        "not_carrier",
    );
    m.json(
        "carrier",
        &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"],
    );
    m.refused(
        "carrier",
        &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"],
        3,
        "duplicate_reference",
    );
    // A sea waybill marked to order never becomes a bill.
    let mut swb: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&doc).expect("doc")).expect("json");
    swb["transportDocumentTypeCode"] = "SWB".into();
    let swb_path = m.path("swb.json");
    std::fs::write(&swb_path, serde_json::to_vec(&swb).expect("json")).expect("write");
    m.refused(
        "carrier",
        &[
            "bill", "issue", &swb_path, "--to", "DCSA CTK", "--as", "carrier",
        ],
        2,
        "sea_waybill_to_order",
    );
    // Revoked and rotated-out keys.
    let bill = m.issue("ISS-2");
    m.json("shipper", &["key", "new", "shipper-new"]);
    let new = m.json("shipper", &["key", "show", "shipper-new"])["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let _ = new;
    // The shipper rotates its own key (its old key and the new one sign).
    m.json(
        "shipper",
        &[
            "party",
            "rotate",
            "DCSA CTK",
            "--new-key",
            "shipper-new",
            "--as",
            "shipper",
        ],
    );
    m.refused(
        "shipper",
        &["bill", "sign", &bill, "--as", "shipper"],
        2,
        "rotated_key",
    );
    m.json(
        "operator",
        &["party", "revoke", "DCSA CTK", "--as", "operator"],
    );
    m.refused(
        "shipper",
        &["bill", "sign", &bill, "--as", "shipper-new"],
        2,
        "revoked_key",
    );
    // A weak public key at registration is refused before anything is signed.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    m.refused(
        "operator",
        &[
            "party",
            "register",
            "Weak Inc",
            "--key",
            &ebl_core::bytes::to_hex(&identity),
            "--role",
            "trader",
            "--as",
            "operator",
        ],
        2,
        "weak_key",
    );
}

#[test]
fn raw_api_misuse() {
    let m = Market::with_cast();
    let bill: Hash = m.issue("RAW-1").parse().expect("bill");
    let http = m.http();
    let head: Hash = m.show("operator", &bill.to_hex())["head"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .expect("head");
    // The operator's key is known here; the others' keys live encrypted in their wallets, so raw
    // transactions are signed by the operator. It is the one member's admin key, which is no party's:
    // the rules refuse it as a signer of any bill action.
    let stale = testkit::signed(
        m.chain,
        Hash::of(b"old head"),
        1,
        Action::Sign { bill },
        &[&m.operator],
    );
    let outcome = http.submit(&stale).expect("answer");
    assert!(
        matches!(outcome, ebl_core::api::SubmitOutcome::Rejected { ref error, .. } if error.code == "unknown_key"),
        "{outcome:?}"
    );
    let mut other_chain = testkit::signed(
        Hash::of(b"other chain"),
        head,
        1,
        Action::Sign { bill },
        &[&m.operator],
    );
    let outcome = http.submit(&other_chain).expect("answer");
    assert!(
        matches!(outcome, ebl_core::api::SubmitOutcome::Rejected { ref error, .. } if error.code == "wrong_chain"),
        "{outcome:?}"
    );
    other_chain.body.chain = m.chain; // now the signature no longer matches the body
    let outcome = http.submit(&other_chain).expect("answer");
    assert!(
        matches!(outcome, ebl_core::api::SubmitOutcome::Rejected { ref error, .. } if error.code == "bad_signature"),
        "{outcome:?}"
    );
    // Replay of an accepted transaction: the original receipt, nothing new.
    let registration = testkit::Actor::new(77, "Late Trader", &[ebl_core::Role::Trader], vec![]);
    let registry: serde_json::Value = http
        .get_as("/v1/registry/history", &m.operator)
        .expect("registry")
        .1;
    let registry_head: Hash = registry
        .as_array()
        .and_then(|a| a.last())
        .and_then(|e| e["receipt"]["tx"].as_str())
        .and_then(|h| h.parse().ok())
        .expect("head");
    let tx = testkit::signed(
        m.chain,
        registry_head,
        1,
        registration.registration().expect("reg"),
        &[&m.operator],
    );
    let first = http.submit(&tx).expect("answer");
    let again = http.submit(&tx).expect("answer");
    match (first, again) {
        (
            ebl_core::api::SubmitOutcome::Accepted { receipt: a, .. },
            ebl_core::api::SubmitOutcome::Duplicate { receipt: b, .. },
        ) => assert_eq!(a, b),
        other => panic!("{other:?}"),
    }
    // Malformed JSON, malformed binary, oversized body.
    let (status, body) = http
        .post("/v1/transactions", "application/json", b"{\"body\":")
        .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, body) = http
        .post("/v1/transactions", "application/octet-stream", &[0xff; 13])
        .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_encoding"))
    );
    let huge = vec![b'x'; 4 * 1024 * 1024 + 1];
    let (status, body) = http
        .post("/v1/transactions", "application/json", &huge)
        .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (413, Some("body_too_large"))
    );
    // An unauthorised read of someone else's bill.
    let (status, body) = http
        .get_as(&format!("/v1/bills/{bill}/history"), &key(77))
        .expect("answer");
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let _ = PartyKey::of(&key(77));
    assert_eq!(
        m.show("operator", &bill.to_hex())["transactions"],
        1,
        "nothing changed the bill"
    );
}
