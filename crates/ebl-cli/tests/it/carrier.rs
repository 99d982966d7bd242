//! `ebl carrier serve`, the carrier's connector, driven as a carrier's documentation system drives it
//! (`ebl_tests::carrier`): DCSA eBL Issuance and Surrender API 3.0 requests and answers against the real
//! `ebl` binary and a node, every one validated against DCSA's schemas.

use ebl_tests::carrier::{
    checksum, issue_to, lei_codes, manifest_keys, sample_document, CarrierSystem, Connector,
    SYSTEM_TOKEN,
};
use serde_json::{json, Value};

use super::support::{Trade, BUYER_LEI};

/// The connector of `trade`'s carrier, answering to `system`.
fn start_connector(trade: &Trade, keys: &std::path::Path, system: &CarrierSystem) -> Connector {
    Connector::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_ebl")),
        &trade.home("carrier"),
        trade.node_url(),
        keys,
        &system.url,
    )
}

/// An issuance request for `reference` to the buyer (named by its LEI on `platform`), its manifest
/// signed with `key`.
fn request(trade: &Trade, reference: &str, platform: &str, key: &ebl_core::SigningKey) -> Value {
    let path = trade.document(reference);
    let document: Value =
        serde_json::from_slice(&std::fs::read(path).expect("document")).expect("json");
    request_for(document, platform, key)
}

/// The buyer as DCSA party objects name it: by its LEI.
fn buyer_codes() -> Value {
    lei_codes(BUYER_LEI)
}

/// An issuance request of `document` to the buyer on `platform`, its manifest signed with `key`.
fn request_for(document: Value, platform: &str, key: &ebl_core::SigningKey) -> Value {
    ebl_tests::carrier::request_for(document, issue_to("Buyer One", BUYER_LEI, platform), key)
}

/// A ledger with the carrier (SMDG:MSC) and the buyer (by its LEI), and a trust directory holding
/// the carrier system's manifest key.
fn carrier_ledger() -> (Trade, ebl_core::SigningKey, std::path::PathBuf) {
    let t = Trade::with_carrier_and_buyer();
    let manifest_key = ebl_core::testkit::key(61);
    let keys = manifest_keys(t.dir.path(), "EBL", &manifest_key);
    (t, manifest_key, keys)
}

fn held_by_buyer(trade: &Trade, reference: &str) -> bool {
    trade
        .json("buyer1", &["bill", "list", "--as", "buyer1"])
        .as_array()
        .expect("bills")
        .iter()
        .any(|b| b["reference"] == reference)
}

#[test]
fn a_carriers_system_issues_a_bill_through_the_dcsa_issuance_api_and_is_answered_issu() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);

    // The first answer is refused by the carrier's system (503): the connector tries again.
    system.statuses.lock().expect("script").push_back(503);
    let (status, _) = connector.put(&request(&t, "ISS-1", "EBL", &manifest_key));
    assert_eq!(status, 204);
    let (path, first) = system.answer();
    assert_eq!(path, "/v3/ebl-issuance-responses");
    assert_eq!(first["issuanceResponseCode"], "ISSU", "{first}");
    let (_, again) = system.answer();
    assert_eq!(
        again, first,
        "the refused answer is delivered again, unchanged"
    );
    assert_eq!(first["transportDocumentReference"], "ISS-1");
    assert!(first.get("reason").is_none(), "no reason on ISSU: {first}");
    assert!(held_by_buyer(&t, "ISS-1"), "the buyer holds the bill");

    // The same reference again: 409 with DCSA's error body, and nothing issued twice.
    let (status, body) = connector.put(&request(&t, "ISS-1", "EBL", &manifest_key));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["errors"][0]["errorCodeText"], "already_requested");
    assert_eq!(body["statusCode"], 409);
}

#[test]
fn regression_an_issuance_request_not_signed_by_the_carrier_changes_nothing() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);

    // Signed by a key the carrier never registered: 401, no bill, no record (the same reference,
    // properly signed afterwards, is issued).
    let stranger = ebl_core::testkit::key(62);
    let (status, body) = connector.put(&request(&t, "FORGED-1", "EBL", &stranger));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["errorCodeText"], "bad_manifest_signature");

    // The document altered after the carrier signed it: 400.
    let mut altered = request(&t, "FORGED-1", "EBL", &manifest_key);
    altered["document"]["shippingMarks"] = json!(["ALTERED"]);
    let (status, body) = connector.put(&altered);
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["errorCodeText"],
        "manifest_checksum_mismatch"
    );

    // issueTo changed to another party after signing: 400.
    let mut redirected = request(&t, "FORGED-1", "EBL", &manifest_key);
    redirected["issueTo"]["identifyingCodes"][0]["partyCode"] = json!("5493001KJTIIGC8Y1R12");
    let (status, body) = connector.put(&redirected);
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["errorCodeText"],
        "manifest_checksum_mismatch"
    );

    // Not JSON, and no manifest.
    let (status, body) = connector.put(&json!("not an issuance request"));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (400, &json!("missing_field"))
    );
    assert!(!held_by_buyer(&t, "FORGED-1"));

    let (status, _) = connector.put(&request(&t, "FORGED-1", "EBL", &manifest_key));
    assert_eq!(status, 204, "a refused request left nothing behind");
    assert_eq!(system.answer().1["issuanceResponseCode"], "ISSU");

    // A reference the carrier issued by hand, never asked of the connector: a conflict too.
    let document = t.document("BY-HAND-1");
    t.json(
        "carrier",
        &[
            "bill",
            "issue",
            &document,
            "--to",
            "Buyer One",
            "--as",
            "carrier",
        ],
    );
    let (status, body) = connector.put(&request(&t, "BY-HAND-1", "EBL", &manifest_key));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (409, &json!("already_requested"))
    );
}

#[test]
fn an_unknown_recipient_is_answered_breq_and_another_platforms_refu() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);

    let mut unknown = request(&t, "ISS-NOBODY", "EBL", &manifest_key);
    unknown["issueTo"]["identifyingCodes"][0]["partyCode"] = json!("5493001KJTIIGC8Y1R12");
    let issue_to = unknown["issueTo"].clone();
    unknown["issuanceManifestSignedContent"] = json!(ebl_pint::sign_jws(
        &manifest_key,
        &json!({"documentChecksum": checksum(&unknown["document"]), "issueToChecksum": checksum(&issue_to)}),
    ));
    let (status, body) = connector.put(&unknown);
    assert_eq!(status, 204, "{body}");
    let answer = system.answer().1;
    assert_eq!(answer["issuanceResponseCode"], "BREQ", "{answer}");
    assert_eq!(answer["errors"][0]["errorCode"], "unknown_party");
    assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));

    assert_eq!(
        connector
            .put(&request(&t, "ISS-WAVE", "WAVE", &manifest_key))
            .0,
        204
    );
    let answer = system.answer().1;
    assert_eq!(answer["issuanceResponseCode"], "REFU", "{answer}");
    assert_eq!(answer["errors"][0]["errorCode"], "other_platform");
    assert!(!held_by_buyer(&t, "ISS-NOBODY") && !held_by_buyer(&t, "ISS-WAVE"));
}

#[test]
fn an_answer_not_taken_before_the_connector_stops_is_delivered_after_it_starts_again() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    system.statuses.lock().expect("script").extend([503; 1000]);
    let connector = start_connector(&t, &keys, &system);
    assert_eq!(
        connector.put(&request(&t, "ISS-R", "EBL", &manifest_key)).0,
        204
    );
    let (_, refused) = system.answer();
    assert_eq!(refused["issuanceResponseCode"], "ISSU");
    drop(connector);
    system.statuses.lock().expect("script").clear();
    system.drain();

    let again = start_connector(&t, &keys, &system);
    assert_eq!(
        system.answer().1,
        refused,
        "the recorded answer, delivered after the restart"
    );
    // Issued once: the same reference is still a conflict, and the bill is the buyer's.
    assert_eq!(
        again.put(&request(&t, "ISS-R", "EBL", &manifest_key)).0,
        409
    );
    assert!(held_by_buyer(&t, "ISS-R"));
}

/// Issues `reference` to the buyer through the connector.
fn issued_through(
    connector: &Connector,
    system: &CarrierSystem,
    t: &Trade,
    reference: &str,
    key: &ebl_core::SigningKey,
) {
    assert_eq!(connector.put(&request(t, reference, "EBL", key)).0, 204);
    let (_, answer) = system.answer();
    assert_eq!(answer["issuanceResponseCode"], "ISSU", "{answer}");
}

/// The buyer surrenders `reference` for amendment with `reason`: the AREQ the carrier's system is sent.
fn surrendered_for_amendment(
    t: &Trade,
    system: &CarrierSystem,
    reference: &str,
    reason: &str,
) -> Value {
    t.json(
        "buyer1",
        &[
            "bill",
            "surrender",
            reference,
            "--amend",
            reason,
            "--as",
            "buyer1",
        ],
    );
    let (path, areq) = system.answer();
    assert_eq!(path, "/v3/ebl-surrender-requests", "{areq}");
    areq
}

fn shown(t: &Trade, reference: &str) -> String {
    t.ebl("buyer1", &["bill", "show", reference, "--as", "buyer1"])
        .ok()
        .stdout
}

#[test]
fn a_carriers_system_settles_surrenders_through_the_dcsa_surrender_api() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);
    issued_through(&connector, &system, &t, "SUR-1", &manifest_key);
    issued_through(&connector, &system, &t, "SUR-2", &manifest_key);

    // The buyer surrenders SUR-1 for delivery: the carrier's system is sent an SREQ with the chain.
    t.json("buyer1", &["bill", "surrender", "SUR-1", "--as", "buyer1"]);
    let (path, sreq) = system.answer();
    assert_eq!(path, "/v3/ebl-surrender-requests");
    assert_eq!(sreq["surrenderRequestCode"], "SREQ", "{sreq}");
    assert_eq!(sreq["transportDocumentReference"], "SUR-1");
    let chain = sreq["endorsementChain"].as_array().expect("chain");
    assert_eq!(chain[0]["actionCode"], "ISSUE", "{sreq}");
    let reference = sreq["surrenderRequestReference"].clone();

    // Without the system's token, or an SREJ without comments: refused, nothing signed.
    let surr = json!({"surrenderRequestReference": reference, "action": "SURR"});
    let (status, body) = connector.answer_surrender(&surr, None);
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (401, &json!("unauthenticated"))
    );
    assert_eq!(connector.answer_surrender(&surr, Some("a guess")).0, 401);
    let bare_srej = json!({"surrenderRequestReference": reference, "action": "SREJ"});
    let (status, body) = connector.answer_surrender(&bare_srej, Some(SYSTEM_TOKEN));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (400, &json!("rejection_without_comments"))
    );
    let unknown = json!({"surrenderRequestReference": "NO-SUCH-REQUEST", "action": "SURR"});
    assert_eq!(
        connector.answer_surrender(&unknown, Some(SYSTEM_TOKEN)).0,
        404
    );
    let before = shown(&t, "SUR-1");
    assert!(!before.contains("ACCOMPLISHED"), "{before}");

    // SURR: accepted on the ledger, signed with the carrier's key; a second answer is a conflict.
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);
    let after = shown(&t, "SUR-1");
    assert!(after.contains("ACCOMPLISHED"), "{after}");
    let (status, body) = connector.answer_surrender(&surr, Some(SYSTEM_TOKEN));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (409, &json!("already_answered"))
    );

    // SUR-2 surrendered for amendment (change of destination): an AREQ with the reason; SREJ gives the
    // bill back to the buyer, who surrenders it anew.
    let areq = surrendered_for_amendment(&t, &system, "SUR-2", "COD");
    assert_eq!(
        (&areq["surrenderRequestCode"], &areq["reasonCode"]),
        (&json!("AREQ"), &json!("COD")),
        "{areq}"
    );
    let srej = json!({
        "surrenderRequestReference": areq["surrenderRequestReference"],
        "action": "SREJ",
        "comments": "The new destination is not served by this vessel",
    });
    assert_eq!(connector.answer_surrender(&srej, Some(SYSTEM_TOKEN)).0, 204);
    t.json("buyer1", &["bill", "surrender", "SUR-2", "--as", "buyer1"]);
    let (_, again) = system.answer();
    assert_eq!(again["surrenderRequestCode"], "SREQ", "{again}");
    assert_ne!(
        again["surrenderRequestReference"],
        areq["surrenderRequestReference"]
    );

    // A straight bill, its consignee the buyer: surrendered for delivery and accepted alike.
    let mut straight = sample_document("SUR-STRAIGHT");
    straight["isToOrder"] = json!(false);
    straight["documentParties"]["consignee"] =
        json!({"partyName": "Buyer One", "identifyingCodes": buyer_codes()});
    assert_eq!(
        connector
            .put(&request_for(straight, "EBL", &manifest_key))
            .0,
        204
    );
    assert_eq!(system.answer().1["issuanceResponseCode"], "ISSU");
    t.json(
        "buyer1",
        &["bill", "surrender", "SUR-STRAIGHT", "--as", "buyer1"],
    );
    let (_, sreq) = system.answer();
    assert_eq!(
        (
            &sreq["transportDocumentReference"],
            &sreq["surrenderRequestCode"]
        ),
        (&json!("SUR-STRAIGHT"), &json!("SREQ"))
    );
    let surr =
        json!({"surrenderRequestReference": sreq["surrenderRequestReference"], "action": "SURR"});
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);
    let after = shown(&t, "SUR-STRAIGHT");
    assert!(after.contains("ACCOMPLISHED"), "{after}");
}

#[test]
fn every_ebl_type_of_dcsas_issuance_scenarios_is_issued() {
    // The Conformance-Gateway's "eBL types": straight (to a consignee), negotiable (to the order of a
    // named endorsee) and blank (to order, no endorsee); each answered ISSU.
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);
    let mut straight = sample_document("TYPE-STRAIGHT");
    straight["isToOrder"] = json!(false);
    straight["documentParties"]["consignee"] =
        json!({"partyName": "Buyer One", "identifyingCodes": buyer_codes()});
    let mut negotiable = sample_document("TYPE-NEGOTIABLE");
    negotiable["documentParties"]["endorsee"] =
        json!({"partyName": "Buyer One", "identifyingCodes": buyer_codes()});
    let blank = sample_document("TYPE-BLANK");
    for document in [straight, negotiable, blank] {
        let reference = document["transportDocumentReference"].clone();
        assert_eq!(
            connector
                .put(&request_for(document, "EBL", &manifest_key))
                .0,
            204
        );
        let (_, answer) = system.answer();
        assert_eq!(
            (
                &answer["transportDocumentReference"],
                &answer["issuanceResponseCode"]
            ),
            (&reference, &json!("ISSU")),
            "{answer}"
        );
        assert!(held_by_buyer(&t, reference.as_str().expect("text")));
    }
}

/// A manifest signed ES256 by `key`, with no `kid`, as DCSA's conformance tooling signs with the key of
/// the certificate it gives the platform.
fn es256_manifest(key: &rcgen::KeyPair, payload: &Value) -> String {
    use rcgen::SigningKey as _;
    let header = ebl_pint::base64url_encode(br#"{"alg":"ES256"}"#);
    let body = ebl_pint::base64url_encode(payload.to_string().as_bytes());
    let input = format!("{header}.{body}");
    let der = key.sign(input.as_bytes()).expect("signed");
    let signature = p256::ecdsa::Signature::from_der(&der).expect("DER signature");
    format!(
        "{input}.{}",
        ebl_pint::base64url_encode(&signature.to_bytes())
    )
}

#[test]
fn a_manifest_signed_by_the_key_of_the_carriers_x509_certificate_is_issued() {
    let (t, _, keys) = carrier_ledger();
    // The carrier registers a certificate instead of a JWK: its key signs ES256, without a kid.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let certificate = rcgen::CertificateParams::new(vec!["docs.carrier.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    std::fs::remove_file(keys.join("EBL").join("carrier.SMDG.MSC.jwk")).expect("no JWK");
    std::fs::write(
        keys.join("EBL").join("carrier.SMDG.MSC.pem"),
        certificate.pem(),
    )
    .expect("pem");
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);

    let stranger = ebl_core::testkit::key(63);
    let mut body = request(&t, "X509-1", "EBL", &stranger);
    let signed = json!({
        "documentChecksum": checksum(&body["document"]),
        "issueToChecksum": checksum(&body["issueTo"]),
    });
    // Signed by another certificate's key: refused.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    body["issuanceManifestSignedContent"] = json!(es256_manifest(&other, &signed));
    assert_eq!(connector.put(&body).0, 401);
    body["issuanceManifestSignedContent"] = json!(es256_manifest(&key, &signed));
    assert_eq!(connector.put(&body).0, 204);
    assert_eq!(system.answer().1["issuanceResponseCode"], "ISSU");
}

#[test]
fn a_switch_to_paper_is_accepted_by_surr_only_when_the_paper_bill_carries_the_reference() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);
    issued_through(&connector, &system, &t, "SWTP-1", &manifest_key);
    let areq = surrendered_for_amendment(&t, &system, "SWTP-1", "SWTP");
    assert_eq!(
        (&areq["surrenderRequestCode"], &areq["reasonCode"]),
        (&json!("AREQ"), &json!("SWTP")),
        "{areq}"
    );
    let surr =
        json!({"surrenderRequestReference": areq["surrenderRequestReference"], "action": "SURR"});
    // DCSA's SURR carries no paper bill number, which the ledger notes: refused, nothing signed.
    let (status, body) = connector.answer_surrender(&surr, Some(SYSTEM_TOKEN));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (400, &json!("paper_note_needed"))
    );
    assert!(!shown(&t, "SWTP-1").contains("SWITCHED_TO_PAPER"));

    // A carrier that prints the paper bill under the electronic bill's number says so once.
    drop(connector);
    let connector = Connector::start_with(
        std::path::Path::new(env!("CARGO_BIN_EXE_ebl")),
        &t.home("carrier"),
        t.node_url(),
        &keys,
        &system.url,
        &["--paper-bill-is-reference"],
    );
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);
    let after = shown(&t, "SWTP-1");
    assert!(
        after.contains("SWITCHED_TO_PAPER") && after.contains("SWTP-1"),
        "{after}"
    );
}

#[test]
fn an_amended_bill_is_issued_through_the_api_in_place_of_the_one_surrendered_for_amendment() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = start_connector(&t, &keys, &system);
    issued_through(&connector, &system, &t, "AMEND-1", &manifest_key);
    let areq = surrendered_for_amendment(&t, &system, "AMEND-1", "COD");
    let surr =
        json!({"surrenderRequestReference": areq["surrenderRequestReference"], "action": "SURR"});
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);

    // The amended document names the bill it replaces; one naming a bill that is not here is a BREQ.
    let amended = |reference: &str, replaces: &str| {
        let mut body = request_for(sample_document(reference), "EBL", &manifest_key);
        body["transportDocumentReplacements"] =
            json!({"oldTransportDocumentReferences": [{"transportDocumentReference": replaces}]});
        ebl_tests::carrier::assert_valid("IssuanceRequest", &body);
        body
    };
    assert_eq!(connector.put(&amended("AMEND-X", "NOT-HERE")).0, 204);
    let (_, answer) = system.answer();
    assert_eq!(
        (
            &answer["issuanceResponseCode"],
            &answer["errors"][0]["errorCode"]
        ),
        (&json!("BREQ"), &json!("unknown_replaced_bill")),
        "{answer}"
    );
    assert_eq!(connector.put(&amended("AMEND-2", "AMEND-1")).0, 204);
    let (_, answer) = system.answer();
    assert_eq!(answer["issuanceResponseCode"], "ISSU", "{answer}");
    let replacement = t.json("buyer1", &["bill", "show", "AMEND-2", "--as", "buyer1"]);
    let old = t.json("buyer1", &["bill", "show", "AMEND-1", "--as", "buyer1"]);
    assert_eq!(
        replacement["bill"]["replaces"],
        json!([old["bill"]["id"]]),
        "the amended bill names the void one it replaces: {replacement}"
    );
}
