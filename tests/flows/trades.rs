//! A. Trade flows, each checked at every stage by a bank verifying an exported bundle offline.

use ebl_tests::Market;
use serde_json::Value;

/// Checks an offline verdict: who possesses, who holds title, and the status.
#[track_caller]
fn verdict_is(m: &Market, verdict: &Value, possessor: &str, status: &str) {
    assert_eq!(
        verdict["bill"]["possessor"],
        m.id(possessor).as_str(),
        "possessor: {verdict}"
    );
    let got = match &verdict["bill"]["status"] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    };
    assert_eq!(got, status, "status: {verdict}");
}

#[test]
fn straight_bill_to_the_consignee_and_delivered() {
    let m = Market::with_cast();
    let doc = m.document("STR-1", Some("Buyer One"));
    let bill = m.json(
        "carrier",
        &[
            "bill",
            "issue",
            &doc,
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
    verdict_is(&m, &m.bank_checks("shipper", &bill), "DCSA CTK", "issued");
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
    verdict_is(&m, &m.bank_checks("buyer1", &bill), "Buyer One", "issued");
    m.json("buyer1", &["bill", "surrender", &bill, "--as", "buyer1"]);
    verdict_is(
        &m,
        &m.bank_checks("buyer1", &bill),
        "Mediterranean Shipping",
        "pending_delivery",
    );
    m.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    let v = m.bank_checks("buyer1", &bill);
    verdict_is(&m, &v, "Mediterranean Shipping", "accomplished");
    assert_eq!(
        v["bill"]["title"]["straight"]["consignee"],
        m.id("Buyer One").as_str()
    );
}

#[test]
fn to_order_bill_through_five_endorsements_then_surrendered() {
    let m = Market::with_cast();
    let bill = m.issue("ORD-1");
    let chain = [
        ("shipper", "DCSA CTK"),
        ("buyer1", "Buyer One"),
        ("buyer2", "Buyer Two"),
        ("buyer3", "Buyer Three"),
        ("buyer4", "Buyer Four"),
        ("buyer5", "Buyer Five"),
    ];
    for pair in chain.windows(2) {
        let ((from, _), (_, to)) = (pair[0], pair[1]);
        m.json(
            from,
            &[
                "bill",
                "endorse",
                &bill,
                "--to",
                to,
                "--to-order",
                "--as",
                from,
            ],
        );
        m.json(from, &["bill", "transfer", &bill, "--to", to, "--as", from]);
        let v = m.bank_checks(from, &bill);
        verdict_is(&m, &v, to, "issued");
        assert_eq!(v["bill"]["title"]["order"]["endorsee"], m.id(to).as_str());
    }
    m.json("buyer5", &["bill", "surrender", &bill, "--as", "buyer5"]);
    m.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    let v = m.bank_checks("buyer5", &bill);
    verdict_is(&m, &v, "Mediterranean Shipping", "accomplished");
    assert_eq!(v["transactions"], 1 + 2 * 5 + 2);
}

#[test]
fn blank_endorsement_bearers_and_surrender_by_the_bearer() {
    let m = Market::with_cast();
    let bill = m.issue("BLK-1");
    m.json(
        "shipper",
        &["bill", "endorse", &bill, "--blank", "--as", "shipper"],
    );
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
    m.json(
        "buyer1",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "buyer1",
        ],
    );
    let v = m.bank_checks("buyer2", &bill);
    verdict_is(&m, &v, "Buyer Two", "issued");
    assert_eq!(v["bill"]["title"], "bearer");
    m.json("buyer2", &["bill", "surrender", &bill, "--as", "buyer2"]);
    m.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    verdict_is(
        &m,
        &m.bank_checks("buyer2", &bill),
        "Mediterranean Shipping",
        "accomplished",
    );
}

/// The shipper pledges to First Bank through the offer hand-over.
fn pledge(m: &Market, bill: &str, holder: &str, bank_wallet: &str, bank: &str) {
    let offer = m.path(&format!("offer-{}.json", ebl_tests::now_ms()));
    m.json(
        holder,
        &[
            "bill",
            "pledge",
            bill,
            "--bank",
            bank,
            "--amount",
            "500000.00",
            "--loan",
            "LOAN-9",
            "-o",
            &offer,
            "--as",
            holder,
        ],
    );
    let review = m.json(
        bank_wallet,
        &["bill", "pledge-review", &offer, "--as", bank_wallet],
    );
    assert_eq!(review["fresh"], true);
    assert_eq!(
        m.json(
            bank_wallet,
            &["bill", "pledge-accept", &offer, "--as", bank_wallet]
        )["status"],
        "accepted"
    );
}

#[test]
fn pledge_release_then_sale_by_endorsement() {
    let m = Market::with_cast();
    let bill = m.issue("PLG-1");
    pledge(&m, &bill, "shipper", "bank", "First Bank");
    let v = m.bank_checks("bank", &bill);
    verdict_is(&m, &v, "First Bank", "pledged");
    assert_eq!(
        v["bill"]["status"]["pledged"]["pledgor"],
        m.id("DCSA CTK").as_str()
    );
    m.json("bank", &["bill", "release", &bill, "--as", "bank"]);
    verdict_is(&m, &m.bank_checks("shipper", &bill), "DCSA CTK", "issued");
    m.json(
        "shipper",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
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
    verdict_is(&m, &m.bank_checks("buyer1", &bill), "Buyer One", "issued");
}

#[test]
fn pledge_default_enforce_and_the_bank_sells() {
    let m = Market::with_cast();
    let bill = m.issue("ENF-1");
    pledge(&m, &bill, "shipper", "bank", "First Bank");
    m.json("bank", &["bill", "enforce", &bill, "--as", "bank"]);
    let v = m.bank_checks("bank", &bill);
    verdict_is(&m, &v, "First Bank", "issued");
    assert_eq!(
        v["bill"]["title"]["order"]["endorsee"],
        m.id("First Bank").as_str()
    );
    m.json(
        "bank",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer Two",
            "--to-order",
            "--as",
            "bank",
        ],
    );
    m.json(
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
    );
    verdict_is(&m, &m.bank_checks("buyer2", &bill), "Buyer Two", "issued");
}

#[test]
fn surrender_rejected_returns_then_accepted() {
    let m = Market::with_cast();
    let bill = m.issue("REJ-1");
    m.json("shipper", &["bill", "surrender", &bill, "--as", "shipper"]);
    m.json(
        "carrier",
        &["bill", "reject-surrender", &bill, "--as", "carrier"],
    );
    verdict_is(&m, &m.bank_checks("shipper", &bill), "DCSA CTK", "issued");
    m.json("shipper", &["bill", "surrender", &bill, "--as", "shipper"]);
    m.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    verdict_is(
        &m,
        &m.bank_checks("shipper", &bill),
        "Mediterranean Shipping",
        "accomplished",
    );
}

#[test]
fn amendment_for_a_change_of_destination_voids_and_a_replacement_references_it() {
    let m = Market::with_cast();
    let bill = m.issue("AMD-1");
    m.json(
        "shipper",
        &[
            "bill",
            "surrender",
            &bill,
            "--amend",
            "COD",
            "--as",
            "shipper",
        ],
    );
    verdict_is(
        &m,
        &m.bank_checks("shipper", &bill),
        "Mediterranean Shipping",
        "pending_amendment",
    );
    m.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    let doc = m.document("AMD-1", None);
    let new = m.json(
        "carrier",
        &[
            "bill",
            "issue",
            &doc,
            "--to",
            "DCSA CTK",
            "--replaces",
            &bill,
            "--as",
            "carrier",
        ],
    )["bill"]
        .as_str()
        .expect("bill")
        .to_owned();
    let old = m.bank_checks("shipper", &bill);
    assert_eq!(
        old["bill"]["status"]["void"]["replaced_by"],
        serde_json::json!([new])
    );
    let v = m.bank_checks("shipper", &new);
    verdict_is(&m, &v, "DCSA CTK", "issued");
    assert_eq!(v["bill"]["replaces"], serde_json::json!([bill]));
}

#[test]
fn a_key_rotation_mid_life_keeps_the_history_verifiable() {
    let m = Market::with_cast();
    let bill = m.issue("ROT-1");
    m.sell("shipper", &bill, "Buyer One");
    let new = m.json("buyer1", &["key", "new", "buyer1-new"])["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let _ = new;
    // The buyer rotates its own key: the old key and the new one sign.
    m.json(
        "buyer1",
        &[
            "party",
            "rotate",
            "Buyer One",
            "--new-key",
            "buyer1-new",
            "--as",
            "buyer1",
        ],
    );
    m.json(
        "buyer1",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "buyer1-new",
        ],
    );
    // The history signed with the old key and the new one verifies as one chain.
    verdict_is(&m, &m.bank_checks("buyer2", &bill), "Buyer Two", "issued");
}
