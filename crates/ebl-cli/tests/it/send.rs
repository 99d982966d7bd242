//! `ebl pint send`: a bill sent from one ebl platform to another and back, each node sending on its own
//! from the holder's `SEND_OUT` to the receiver's signed answer, with a pledge taken and released on
//! the far side in between.

use serde_json::Value;

use crate::support::{Trade, BUYER_LEI};

/// Writes `value` (a JWK) or `text` into `trade`'s trust directory at `name` (`CODE/file`).
fn trust_file(trade: &Trade, name: &str, text: &str) {
    let path = trade.data().pint_trust().join(name);
    std::fs::create_dir_all(path.parent().expect("in a platform's directory")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn jwk(trade: &Trade, who: &str) -> String {
    let path = trade.path(&format!("{who}-node.jwk"));
    trade.json(who, &["pint", "jwk", "-o", &path]);
    std::fs::read_to_string(path).expect("read")
}

fn bill_of(trade: &Trade, who: &str) -> Vec<Value> {
    trade
        .json(who, &["bill", "list", "--as", who])
        .as_array()
        .cloned()
        .expect("list")
}

#[test]
fn a_bill_goes_to_another_ebl_platform_and_back_with_ebl_pint_send() {
    // Two platforms, each hosting the carrier and the buyer (known on both by its LEI), each knowing
    // where the other receives.
    let (a, b, bill) = two_platforms("ROUND-1");
    a.admit(
        "buyer1",
        "Buyer One",
        "trader",
        &[&format!("LEI:{BUYER_LEI}")],
    );
    b.admit("bank", "First Bank", "bank", &[]);
    trust_file(&a, "EBLB/url", &b.node.url);
    trust_file(&b, "EBLA/url", &a.node.url);

    // On A: issued to the shipper, who sends it to the buyer on B, named by its LEI.
    let sent = a.json(
        "shipper",
        &[
            "pint",
            "send",
            &bill,
            "--platform",
            "EBLB",
            "--scheme",
            "LEI",
            "--recipient",
            BUYER_LEI,
            "--name",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(sent["status"], "TRANSFERRED_OUT", "{sent}");
    assert!(
        sent["answer"]
            .as_str()
            .is_some_and(|a| a.starts_with("RECE")),
        "{sent}"
    );
    let left = a.json("shipper", &["bill", "show", &bill, "--as", "shipper"]);
    assert!(
        left["bill"]["status"]["transferred_out"].is_object(),
        "{left}"
    );
    // Nothing may follow on A.
    let run = a.ebl(
        "shipper",
        &[
            "--json",
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(run.json()["error"]["code"], "terminal", "{}", run.stderr);

    // On B the buyer holds it, with title; it pledges the bill to the bank, which releases it.
    let here = bill_of(&b, "buyer1");
    assert_eq!(here.len(), 1, "{here:?}");
    let on_b = here[0]["id"].as_str().expect("id").to_owned();
    let offer = b.path("offer.json");
    b.json(
        "buyer1",
        &[
            "bill",
            "pledge",
            &on_b,
            "--bank",
            "First Bank",
            "--amount",
            "10",
            "--loan",
            "L-9",
            "-o",
            &offer,
            "--as",
            "buyer1",
        ],
    );
    b.json("bank", &["bill", "pledge-accept", &offer, "--as", "bank"]);
    // A pledged bill cannot leave until the pledge is released.
    let a_buyer = a.json("buyer1", &["party", "show", "Buyer One", "--as", "buyer1"]);
    let a_buyer_id = a_buyer["id"].as_str().expect("party id").to_owned();
    let back = [
        "pint",
        "send",
        &on_b,
        "--platform",
        "EBLA",
        "--recipient",
        &a_buyer_id,
        "--as",
        "buyer1",
    ];
    let run = b.ebl("buyer1", &[&["--json"][..], &back[..]].concat());
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.json()["error"]["code"], "pledged");
    b.json("bank", &["bill", "release", &on_b, "--as", "bank"]);

    // Back to A, named by its party id there: a new bill, linked to its earlier life on A.
    let returned = b.json("buyer1", &back);
    assert_eq!(returned["status"], "TRANSFERRED_OUT", "{returned}");
    let list = bill_of(&a, "buyer1");
    let again = list
        .iter()
        .find(|x| x["id"] != bill.as_str())
        .expect("the returned bill");
    let again_id = again["id"].as_str().expect("id");
    let shown = a.json("buyer1", &["bill", "show", again_id, "--as", "buyer1"]);
    assert_eq!(
        shown["bill"]["earlier"],
        Value::from(bill.as_str()),
        "{shown}"
    );
    assert_eq!(shown["bill"]["status"], "issued");
    // The buyer holds it on A and may surrender it to the carrier there.
    a.json("buyer1", &["bill", "surrender", again_id, "--as", "buyer1"]);
}

/// Two platforms trusting each other, the carrier on both, the buyer on B, A's shipper holding a fresh
/// bill `reference`; neither knows the other's address yet.
fn two_platforms(reference: &str) -> (Trade, Trade, String) {
    let mut a = Trade::on_platform("EBLA");
    let mut b = Trade::on_platform("EBLB");
    for t in [&a, &b] {
        t.admit(
            "carrier",
            "Mediterranean Shipping",
            "carrier",
            &["SMDG:MSC"],
        );
    }
    b.admit(
        "buyer1",
        "Buyer One",
        "trader",
        &[&format!("LEI:{BUYER_LEI}")],
    );
    a.admit(
        "shipper",
        "DCSA CTK",
        "trader",
        &["LEI:5493001KJTIIGC8Y1R12"],
    );
    // Each trusts the other's node key as the platform and as the carrier's issuing platform (its own
    // it trusts from its ledger: a bill coming back carries the entries it signed).
    let (a_key, b_key) = (jwk(&a, "carrier"), jwk(&b, "carrier"));
    for (t, other, other_key) in [(&a, "EBLB", &b_key), (&b, "EBLA", &a_key)] {
        trust_file(t, &format!("{other}/node.jwk"), other_key);
        trust_file(t, &format!("{other}/carrier.SMDG.MSC.jwk"), other_key);
    }
    a.reopen();
    b.reopen();
    let bill = a.issue(reference);
    (a, b, bill)
}

#[test]
fn a_send_survives_the_senders_restart_and_a_refusal_gives_the_bill_back() {
    let (mut a, b, bill) = two_platforms("RESTART-1");
    // A does not know where B receives yet: the send stays open, the bill frozen, and the wallet
    // says so with exit 5 (`send_pending`), not 0 (issue 33: it exited 0, which its help says is
    // "received").
    let waiting = a.ebl(
        "shipper",
        &[
            "--json",
            "pint",
            "send",
            &bill,
            "--platform",
            "EBLB",
            "--scheme",
            "LEI",
            "--recipient",
            BUYER_LEI,
            "--wait",
            "1",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(waiting.code, 5, "{}", waiting.stderr);
    assert_eq!(
        waiting.json()["error"]["code"],
        "send_pending",
        "{}",
        waiting.stdout
    );
    let run = a.ebl(
        "shipper",
        &["--json", "bill", "surrender", &bill, "--as", "shipper"],
    );
    assert_eq!(run.json()["error"]["code"], "sending_out", "{}", run.stderr);
    // The node restarts; the open send is on its ledger and resumes once B's address is known.
    a.reopen();
    trust_file(&a, "EBLB/url", &b.node.url);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let shown = a.json("shipper", &["bill", "show", &bill, "--as", "shipper"]);
        if shown["bill"]["status"]["transferred_out"].is_object() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never sent: {shown}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(bill_of(&b, "buyer1").len(), 1, "B holds the bill");

    // A recipient B does not host: B refuses (BENV), and the shipper holds the bill again.
    let other = a.issue("REFUSED-1");
    let run = a.ebl(
        "shipper",
        &[
            "--json",
            "pint",
            "send",
            &other,
            "--platform",
            "EBLB",
            "--recipient",
            "nobody",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "send_refused", "{error}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("BENV")),
        "{error}"
    );
    let shown = a.json("shipper", &["bill", "show", &other, "--as", "shipper"]);
    assert_eq!(shown["bill"]["status"], "issued", "{shown}");
    a.json("shipper", &["bill", "surrender", &other, "--as", "shipper"]);
}
