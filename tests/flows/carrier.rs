//! A carrier's documentation system on the ledger through DCSA's APIs alone, with the real binaries: it
//! issues a bill through the Issuance API (`ebl carrier serve`, an `ebl-node` process), the bill is sold
//! by command as any other, and its surrender is settled through the Surrender API.

use ebl_tests::carrier::{
    issue_to, manifest_keys, request_for, sample_document, CarrierSystem, Connector, SYSTEM_TOKEN,
};
use ebl_tests::Market;
use serde_json::json;

/// The shipper of the cast, as its LEI names it.
const SHIPPER_LEI: &str = "5493001KJTIIGC8Y1R12";

#[test]
fn a_carriers_system_issues_and_settles_a_bill_through_the_dcsa_apis_alone() {
    let m = Market::with_cast();
    let manifest_key = ebl_core::testkit::key(71);
    let keys = manifest_keys(m.wallets.dir.path(), "EBL", &manifest_key);
    let system = CarrierSystem::start();
    let connector = Connector::start(
        &ebl_tests::bin("ebl"),
        &m.home("carrier"),
        m.node_url(),
        &keys,
        &system.url,
    );

    // Issued to the shipper, named by its LEI, through PUT /v3/ebl-issuance-requests.
    let request = request_for(
        sample_document("FLOW-DCSA-1"),
        issue_to("DCSA CTK", SHIPPER_LEI, "EBL"),
        &manifest_key,
    );
    assert_eq!(connector.put(&request).0, 204);
    let (_, answer) = system.answer();
    assert_eq!(answer["issuanceResponseCode"], "ISSU", "{answer}");

    // Sold by command, as any bill: endorsed to the buyer's order and handed over.
    for (action, extra) in [("endorse", Some("--to-order")), ("transfer", None)] {
        let mut args = vec!["bill", action, "FLOW-DCSA-1", "--to", "Buyer One"];
        args.extend(extra);
        args.extend(["--as", "shipper"]);
        m.json("shipper", &args);
    }

    // The buyer surrenders it for delivery: the carrier's system is asked, answers SURR, and the bill
    // is accomplished, signed with the carrier's key from its own wallet.
    m.json(
        "buyer1",
        &["bill", "surrender", "FLOW-DCSA-1", "--as", "buyer1"],
    );
    let (path, sreq) = system.answer();
    assert_eq!(path, "/v3/ebl-surrender-requests");
    let links: Vec<&str> = sreq["endorsementChain"]
        .as_array()
        .expect("chain")
        .iter()
        .filter_map(|l| l["actionCode"].as_str())
        .collect();
    assert_eq!(links.first(), Some(&"ISSUE"), "{sreq}");
    assert!(links.contains(&"TRANSFER"), "{sreq}");
    let surr =
        json!({"surrenderRequestReference": sreq["surrenderRequestReference"], "action": "SURR"});
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);
    let shown = m
        .ebl("buyer1", &["bill", "show", "FLOW-DCSA-1", "--as", "buyer1"])
        .ok()
        .stdout;
    assert!(shown.contains("ACCOMPLISHED"), "{shown}");
}
