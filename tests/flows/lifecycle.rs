//! The rest of a bill's life with the real binaries: a part cargo sold by splitting the bill, two bills
//! combined, a recipient's refusal, and a switch to paper.

use ebl_tests::Market;
use serde_json::Value;

fn status_name(bill: &Value) -> String {
    match &bill["status"] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The shipper surrenders `bill` for amendment with `reason` and the carrier accepts.
fn amend(m: &Market, bill: &str, reason: &str) {
    m.json(
        "shipper",
        &[
            "bill",
            "surrender",
            bill,
            "--amend",
            reason,
            "--as",
            "shipper",
        ],
    );
    m.json(
        "carrier",
        &["bill", "accept-surrender", bill, "--as", "carrier"],
    );
}

/// The shipper endorses `bill` to the order of `buyer` and hands it over.
fn sell(m: &Market, bill: &str, buyer: &str) {
    m.json(
        "shipper",
        &[
            "bill",
            "endorse",
            bill,
            "--to",
            buyer,
            "--to-order",
            "--as",
            "shipper",
        ],
    );
    m.json(
        "shipper",
        &["bill", "transfer", bill, "--to", buyer, "--as", "shipper"],
    );
}

#[test]
fn a_bill_split_in_two_part_cargoes_one_half_pledged() {
    let m = Market::with_cast();
    let old = m.issue("SPLIT-0");
    amend(&m, &old, "SWI");
    let (a, b) = (m.document("SPLIT-A", None), m.document("SPLIT-B", None));
    let replaced = m.json(
        "carrier",
        &[
            "bill",
            "replace",
            &old,
            "--document",
            &a,
            "--document",
            &b,
            "--to",
            "DCSA CTK",
            "--as",
            "carrier",
        ],
    );
    let halves: Vec<String> = replaced["issued"]
        .as_array()
        .expect("issued")
        .iter()
        .map(|i| i["bill"].as_str().expect("bill").to_owned())
        .collect();
    assert_eq!(halves.len(), 2, "{replaced}");
    let void = m.show("carrier", &old);
    assert_eq!(
        void["status"]["void"]["replaced_by"],
        serde_json::json!(halves),
        "the void bill names both replacements"
    );
    // A third replacement of the same bill is refused.
    let c = m.document("SPLIT-C", None);
    m.refused(
        "carrier",
        &[
            "bill",
            "replace",
            &old,
            "--document",
            &c,
            "--to",
            "DCSA CTK",
            "--as",
            "carrier",
        ],
        3,
        "already_replaced",
    );
    sell(&m, &halves[0], "Buyer One");
    sell(&m, &halves[1], "Buyer Two");
    let offer = m.path("half-a.offer");
    m.json(
        "buyer1",
        &[
            "bill",
            "pledge",
            &halves[0],
            "--bank",
            "First Bank",
            "--amount",
            "500000.00",
            "--loan",
            "L-HALF",
            "-o",
            &offer,
            "--as",
            "buyer1",
        ],
    );
    assert_eq!(
        m.json("bank", &["bill", "pledge-accept", &offer, "--as", "bank"])["status"],
        "accepted"
    );
    // The bank's bundle of half A carries the history of the bill it replaced.
    let verdict = m.bank_checks("bank", &halves[0]);
    assert_eq!(verdict["bill"]["replaces"], serde_json::json!([old]));
    assert_eq!(status_name(&verdict["bill"]), "pledged");
    let history = m
        .ebl("buyer1", &["bill", "history", &halves[0], "--as", "buyer1"])
        .ok()
        .stdout;
    assert!(history.contains("one of 2 replacing"), "{history}");
    // Half B is Buyer Two's, untouched by the pledge of half A.
    assert_eq!(status_name(&m.show("buyer2", &halves[1])), "issued");
}

#[test]
fn two_bills_combined_into_one() {
    let m = Market::with_cast();
    let one = m.issue("COMB-1");
    let two = m.issue("COMB-2");
    amend(&m, &one, "COD");
    amend(&m, &two, "COD");
    let doc = m.document("COMB-12", None);
    let combined = m.json(
        "carrier",
        &[
            "bill",
            "replace",
            &one,
            &two,
            "--document",
            &doc,
            "--to",
            "DCSA CTK",
            "--as",
            "carrier",
        ],
    );
    let new = combined["issued"][0]["bill"]
        .as_str()
        .expect("bill")
        .to_owned();
    let verdict = m.bank_checks("shipper", &new);
    assert_eq!(verdict["bill"]["replaces"], serde_json::json!([one, two]));
    // The combined bill's history covers both void bills'.
    assert!(
        verdict["transactions"].as_u64().is_some_and(|n| n >= 1),
        "{verdict}"
    );
}

#[test]
fn the_recipient_refuses_a_bill_it_did_not_agree_to_take() {
    let m = Market::with_cast();
    let bill = m.issue("REFUSE-1");
    m.json(
        "shipper",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Three",
            "--as",
            "shipper",
        ],
    );
    m.refused(
        "buyer1",
        &["bill", "refuse", &bill, "--as", "buyer1"],
        3,
        "not_a_party",
    );
    m.json("buyer3", &["bill", "refuse", &bill, "--as", "buyer3"]);
    assert_eq!(
        m.show("shipper", &bill)["possessor"],
        m.id("DCSA CTK").as_str()
    );
    m.refused(
        "shipper",
        &["bill", "refuse", &bill, "--as", "shipper"],
        3,
        "nothing_to_refuse",
    );
}

#[test]
fn a_switch_to_paper_ends_the_bill_here() {
    let m = Market::with_cast();
    let bill = m.issue("PAPER-1");
    m.json(
        "shipper",
        &[
            "bill",
            "surrender",
            &bill,
            "--amend",
            "SWTP",
            "--as",
            "shipper",
        ],
    );
    m.refused(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
        3,
        "paper_note_missing",
    );
    m.json(
        "carrier",
        &[
            "bill",
            "accept-surrender",
            &bill,
            "--paper-number",
            "MSC-P-77",
            "--paper-date",
            "2026-12-01",
            "--as",
            "carrier",
        ],
    );
    let verdict = m.bank_checks("shipper", &bill);
    assert_eq!(status_name(&verdict["bill"]), "switched_to_paper");
    assert_eq!(
        verdict["bill"]["status"]["switched_to_paper"]["paper"]["number"],
        "MSC-P-77"
    );
    let text = m
        .ebl("shipper", &["bill", "show", &bill, "--as", "shipper"])
        .ok()
        .stdout;
    assert!(text.contains("no longer an electronic record"), "{text}");
}
