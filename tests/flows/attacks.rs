//! The four ways issue 11 broke "a bank needs nobody's word", each played with the real binaries as an
//! attacker would, and refused with its code.

use ebl_tests::Market;

/// A to-order bill the shipper endorsed and handed to Buyer One, who now holds title.
fn bill_with_buyer1(m: &Market, reference: &str) -> String {
    let bill = m.issue(reference);
    m.sell("shipper", &bill, "Buyer One");
    bill
}

#[test]
fn regression_the_operator_acts_as_anyone() {
    let m = Market::with_cast();
    let bill = m.issue("ATTACK-1");
    m.json("operator", &["key", "new", "stolen"]);
    // The operator cannot give the shipper a key of its choosing: the shipper's own key must sign.
    m.refused(
        "operator",
        &[
            "party",
            "rotate",
            "DCSA CTK",
            "--new-key",
            "stolen",
            "--as",
            "operator",
        ],
        3,
        "missing_signature",
    );
    // Nor sign for the shipper with its own (admin) key: it is no party's key.
    m.refused(
        "operator",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--to-order",
            "--as",
            "operator",
        ],
        3,
        "unknown_key",
    );
    // A party rotates its own key.
    m.json("shipper", &["key", "new", "shipper-2"]);
    m.json(
        "shipper",
        &[
            "party",
            "rotate",
            "DCSA CTK",
            "--new-key",
            "shipper-2",
            "--as",
            "shipper",
        ],
    );
    // Governance can recover a lost key, but it is recorded, and every verifier is warned of it.
    let stolen = m.json("operator", &["key", "show", "stolen"])["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    m.json(
        "operator",
        &[
            "party",
            "recover",
            "DCSA CTK",
            "--new-key",
            &stolen,
            "--as",
            "operator",
        ],
    );
    m.json(
        "operator",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "stolen",
        ],
    );
    let history = m
        .ebl("buyer1", &["bill", "history", &bill, "--as", "buyer1"])
        .ok();
    assert!(history.stdout.contains("RECOVERED"), "{}", history.stdout);
    let file = m.path("recovered.bundle");
    m.json(
        "buyer1",
        &["bill", "export", &bill, "-o", &file, "--as", "buyer1"],
    );
    let text = m.ebl("buyer1", &["verify", &file]).ok().stdout;
    assert!(
        text.contains("WARNING") && text.contains("DCSA CTK") && text.contains("operator"),
        "{text}"
    );
    let verdict = m.json("buyer1", &["verify", &file]);
    assert_eq!(
        verdict["verdict"]["recoveries"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn regression_a_second_carrier_with_the_same_code_double_finances() {
    let m = Market::with_cast();
    m.json("evil", &["key", "new", "evil"]);
    let key = m.json("evil", &["key", "show", "evil"])["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    m.refused(
        "operator",
        &[
            "party",
            "register",
            "Evil Lines",
            "--key",
            &key,
            "--role",
            "carrier",
            "--id",
            "SMDG:MSC",
            "--as",
            "operator",
        ],
        3,
        "identifier_taken",
    );
}

#[test]
fn regression_a_bundle_from_a_self_made_chain_verifies() {
    let real = Market::with_cast();
    let bill = real.issue("ATTACK-3");
    let genuine = real.path("genuine.bundle");
    real.json(
        "shipper",
        &["bill", "export", &bill, "-o", &genuine, "--as", "shipper"],
    );
    // The bank's wallet met the real node: it pinned that chain, and names it when it verifies.
    let pinned = real.json("bank", &["chain", "show"])["chain"]
        .as_str()
        .expect("chain")
        .to_owned();
    let text = real.ebl("bank", &["verify", &genuine]).ok().stdout;
    assert!(
        text.contains(&pinned) && text.contains("signed by the node of operator"),
        "{text}"
    );
    // A laptop ledger with parties of the same names issues the same document.
    let fake = Market::with_cast();
    let forged_bill = fake.issue("ATTACK-3");
    let forged = real.path("forged.bundle");
    fake.json(
        "shipper",
        &[
            "bill",
            "export",
            &forged_bill,
            "-o",
            &forged,
            "--as",
            "shipper",
        ],
    );
    real.refused("bank", &["verify", &forged], 4, "unpinned_chain");
    real.refused(
        "bank",
        &["verify", &forged, "--chain", &pinned],
        4,
        "chain_mismatch",
    );
    // And the bank's wallet will not talk to the fake node as if it were the real one at that address.
    assert_ne!(pinned, fake.chain.to_hex());
}

#[test]
fn regression_the_pledge_review_says_fresh_when_stale() {
    let m = Market::with_cast();
    let bill = bill_with_buyer1(&m, "ATTACK-4");
    let offer = m.path("offer.json");
    m.json(
        "buyer1",
        &[
            "bill",
            "pledge",
            &bill,
            "--bank",
            "First Bank",
            "--amount",
            "1000.00",
            "--loan",
            "L-4",
            "-o",
            &offer,
            "--as",
            "buyer1",
        ],
    );
    let fresh = m.json("bank", &["bill", "pledge-review", &offer, "--as", "bank"]);
    assert_eq!(fresh["fresh"], true, "{fresh}");
    assert!(fresh["valid_until_ms"].as_u64().is_some());
    // After the offer the holder endorses the bill away.
    m.json(
        "buyer1",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer Two",
            "--to-order",
            "--as",
            "buyer1",
        ],
    );
    let stale = m.json("bank", &["bill", "pledge-review", &offer, "--as", "bank"]);
    assert_eq!(stale["fresh"], false, "{stale}");
    assert_eq!(stale["freshness"]["moved"][0]["action"], "ENDORSE_TO_ORDER");
    let text = m
        .ebl("bank", &["bill", "pledge-review", &offer, "--as", "bank"])
        .ok()
        .stdout;
    assert!(
        text.contains("NO: since the offer the bill moved: Endorsed to order at "),
        "{text}"
    );
    m.refused(
        "bank",
        &["bill", "pledge-accept", &offer, "--as", "bank"],
        4,
        "stale_offer",
    );
    // Another bank cannot use the offer to learn about the bill.
    m.refused(
        "bank2",
        &["bill", "pledge-review", &offer, "--as", "bank2"],
        3,
        "not_pledgee",
    );
    // An offer's validity is bounded.
    m.refused(
        "buyer2",
        &[
            "bill",
            "pledge",
            &bill,
            "--bank",
            "First Bank",
            "--amount",
            "1.00",
            "--loan",
            "L-5",
            "-o",
            &m.path("o2.json"),
            "--valid-hours",
            "0",
            "--as",
            "buyer2",
        ],
        2,
        "bad_validity",
    );
}
