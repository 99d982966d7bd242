//! The PINT receiver API (`/v3`) against a real node: the DCSA conformance scenarios for a receiving
//! platform (valid transfer, the three retries, bad signature, wrong recipient, additional documents
//! with INCD and MDOC, a schema error answered 400), receiver validation, and what an import leaves on
//! the ledger. The sending platform is played here, with its own keys, signing as PINT prescribes.

use ebl_core::testkit;
use ebl_core::{Hash, PartyKey, SigningKey};
use ebl_pint::testkit::certified_platform_key;
use ebl_pint::{base64url_decode, base64url_encode, public_jwk, sign_jws, TrustStore};
use serde_json::{json, Value};

use ebl_pint::testkit::{foreign_party, ForeignPlatform as Foreign, FOREIGN};

use ebl_node::Settings;

use crate::support::{agent, TestNode};

/// The platform code of the node under test.
const HERE: &str = "EBLT";

/// Writes the foreign platform's keys into the node's trust directory.
fn trust(foreign: &Foreign, node: &TestNode) {
    let dir = node.data().pint_trust();
    std::fs::create_dir_all(&dir).expect("trust dir");
    for (name, jwk) in foreign.jwks() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("a platform's directory")).expect("mkdir");
        std::fs::write(path, jwk.to_string()).expect("write jwk");
    }
}

/// A party of the node under test, as a sender names it.
pub(crate) fn local(name: &str, id: ebl_core::PartyId) -> Value {
    json!({
        "partyName": name,
        "eblPlatform": HERE,
        "identifyingCodes": [{ "codeListProvider": HERE, "partyCode": id.to_hex() }],
    })
}

/// The usual setting: a foreign platform, a node that trusts it, and the node's buyer as a sender
/// names it.
fn receiving() -> (Foreign, TestNode, Value) {
    let foreign = Foreign::new();
    let node = receiving_node(&foreign);
    let buyer = local("Buyer One", node.cast.buyer.id);
    (foreign, node, buyer)
}

/// A node with the cast registered that trusts the foreign platform.
fn receiving_node(foreign: &Foreign) -> TestNode {
    let mut node = TestNode::start_on(Settings::default(), HERE);
    trust(foreign, &node);
    // The trust directory is read when the node opens.
    node.restart();
    node
}

/// A PINT request; returns the status and the body (JSON, or the signed answer as a string).
fn send(node: &TestNode, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let url = node.url(path);
    let request = match method {
        "POST" => agent().post(&url),
        _ => agent().put(&url),
    };
    let mut response = request
        .header("content-type", "application/json")
        .send(body)
        .expect("HTTP");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub(crate) fn post(node: &TestNode, envelope: &Value) -> (u16, Value) {
    send(
        node,
        "POST",
        "/v3/envelopes",
        &serde_json::to_vec(envelope).expect("json"),
    )
}

/// Checks the node's signature on an answer and returns its payload.
fn answer(node: &TestNode, body: &Value) -> Value {
    let (_, jwk) = node.get("/v1/pint/jwk");
    let mut trust = TrustStore::default();
    let here = ebl_pint::Binding::platform(HERE);
    trust
        .add_jwks(jwk.to_string().as_bytes(), &here)
        .expect("node jwk");
    ebl_pint::verified_jws(body.as_str().expect("a signed answer"), &trust, &here)
        .expect("signed by the node")
}

fn code(node: &TestNode, body: &Value) -> String {
    answer(node, body)["responseCode"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

pub(crate) fn bills_of(node: &TestNode, key: &SigningKey) -> Vec<Value> {
    let (status, body) = node.get_as("/v1/bills", key);
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap_or_default()
}

fn put_document(node: &TestNode, reference: &str, checksum: &str, content: &[u8]) -> (u16, Value) {
    send(
        node,
        "PUT",
        &format!("/v3/envelopes/{reference}/additional-documents/{checksum}"),
        &serde_json::to_vec(&ebl_pint::base64_encode(content)).expect("json"),
    )
}

fn finish(node: &TestNode, reference: &str) -> (u16, Value) {
    send(
        node,
        "PUT",
        &format!("/v3/envelopes/{reference}/finish-transfer"),
        b"",
    )
}

#[test]
fn a_valid_transfer_is_received_imported_and_exported_with_its_history() {
    let (mut foreign, mut node, buyer) = receiving();
    let envelope = foreign.envelope("PINT0001", &buyer, &[]);
    let (status, body) = post(&node, &envelope);
    assert_eq!(status, 200, "{body}");
    let payload = answer(&node, &body);
    assert_eq!(payload["responseCode"], "RECE", "{payload}");
    let last = envelope["envelopeTransferChain"][1]
        .as_str()
        .expect("entry");
    assert_eq!(
        payload["lastEnvelopeTransferChainEntrySignedContentChecksum"],
        Hash::of(last.as_bytes()).to_hex()
    );

    // The bill is on the ledger, possessed by the recipient, who holds title.
    let buyer_key = node.cast.buyer.key.clone();
    let bills = bills_of(&node, &buyer_key);
    assert_eq!(bills.len(), 1, "{bills:?}");
    let id: ebl_core::BillId = bills[0]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("bill id");
    let (_, bill) = node.get_as(&format!("/v1/bills/{id}"), &buyer_key);
    assert_eq!(bill["bill"]["possessor"], node.cast.buyer.id.to_hex());
    assert_eq!(bill["bill"]["reference"], "PINT0001");
    assert_eq!(
        bill["document"]["transportDocumentReference"], "PINT0001",
        "the document is served as for an issued bill: {bill}"
    );

    // It lives on here: the buyer passes it on; the carrier is local and will answer a surrender.
    let buyer2 = node.cast.buyer2.id;
    crate::support::assert_accepted(&node.act(
        ebl_core::Action::EndorseToOrder {
            bill: id,
            to: buyer2,
        },
        &[&buyer_key],
    ));
    crate::support::assert_accepted(&node.act(
        ebl_core::Action::Transfer {
            bill: id,
            to: buyer2,
        },
        &[&buyer_key],
    ));

    // Exported again, the foreign entries come first, as their platforms signed them, and this node's
    // entry links to the last of them; a receiver trusting both platforms accepts the whole history.
    let (status, exported) = node.get_as(&format!("/v1/bills/{id}/pint"), &buyer_key);
    assert_eq!(status, 200, "{exported}");
    let chain = exported["envelopeTransferChain"].as_array().expect("chain");
    assert_eq!(chain.len(), 3);
    assert_eq!(
        chain[..2],
        envelope["envelopeTransferChain"].as_array().expect("c")[..]
    );
    let mut trust = foreign.trust();
    let (_, node_jwk) = node.get("/v1/pint/jwk");
    trust
        .add_jwks(
            node_jwk.to_string().as_bytes(),
            &ebl_pint::Binding::platform(HERE),
        )
        .expect("jwk");
    let verdict = ebl_pint::verify_envelope(exported.to_string().as_bytes(), &trust)
        .expect("the exported history verifies");
    assert_eq!(
        verdict.actions,
        [
            "ISSUE",
            "ENDORSE_TO_ORDER",
            "TRANSFER",
            "ENDORSE_TO_ORDER",
            "TRANSFER"
        ]
    );
    assert_eq!(verdict.platforms, [FOREIGN, FOREIGN, HERE]);

    // And the import survives a restart.
    node.restart();
    let (_, bill) = node.get_as(&format!("/v1/bills/{id}"), &buyer_key);
    assert_eq!(bill["bill"]["possessor"], buyer2.to_hex());
}

#[test]
fn retries_are_duplicates_unless_the_content_changed() {
    let (mut foreign, node, buyer) = receiving();
    let envelope = foreign.envelope("PINT0002", &buyer, &[]);
    let (status, body) = post(&node, &envelope);
    assert_eq!((status, code(&node, &body)), (200, "RECE".into()));

    // Retry with no change: DUPE, quoting the entry accepted before.
    let (status, body) = post(&node, &envelope);
    let payload = answer(&node, &body);
    assert_eq!(
        (status, payload["responseCode"].as_str()),
        (200, Some("DUPE"))
    );
    assert_eq!(
        payload["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"],
        envelope["envelopeTransferChain"][1]
    );

    // Retry re-signed (same content, signed again by a new key of the same platform): still DUPE.
    let resigned_key = testkit::key(92);
    let dir = node.data().pint_trust();
    std::fs::write(
        dir.join("FRGN").join("platform-2.jwk"),
        public_jwk(&PartyKey::of(&resigned_key)).to_string(),
    )
    .expect("jwk");
    let mut node = node;
    node.restart();
    let chain = envelope["envelopeTransferChain"].as_array().expect("chain");
    let content = ebl_pint::jws_content(chain[1].as_str().expect("entry")).expect("content");
    let resigned = sign_jws(
        &resigned_key,
        &serde_json::from_str(&content).expect("json"),
    );
    assert_ne!(resigned, chain[1].as_str().expect("entry"));
    let mut retry = foreign.wrap(
        envelope["transportDocument"].clone(),
        vec![chain[0].as_str().expect("e").to_owned(), resigned],
        &[],
    );
    let (status, body) = post(&node, &retry);
    assert_eq!((status, code(&node, &body)), (200, "DUPE".into()));

    // Retry manipulated (the last transaction changed, then signed again): a conflicting history.
    let mut changed: Value = serde_json::from_str(&content).expect("json");
    changed["transactions"][1]["actionDateTime"] = "2030-01-01T00:00:00.000Z".into();
    let manipulated = sign_jws(&foreign.platform, &changed);
    retry = foreign.wrap(
        envelope["transportDocument"].clone(),
        vec![chain[0].as_str().expect("e").to_owned(), manipulated],
        &[],
    );
    let (status, body) = post(&node, &retry);
    assert_eq!((status, code(&node, &body)), (409, "DISE".into()));
    let buyer_key = node.cast.buyer.key.clone();
    assert_eq!(
        bills_of(&node, &buyer_key).len(),
        1,
        "nothing more imported"
    );
}

#[test]
fn bad_signatures_and_foreign_recipients_are_refused_and_nothing_is_stored() {
    let (mut foreign, node, buyer) = receiving();
    let envelope = foreign.envelope("PINT0003", &buyer, &[]);

    // A flipped byte in the signature of the manifest, and of the last entry (with the manifest
    // re-made to name the changed entry, as a sender that signs after the damage would).
    let flip = |jws: &str| {
        let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
        let mut sig = base64url_decode(&parts[2]).expect("sig");
        sig[5] ^= 1;
        parts[2] = base64url_encode(&sig);
        parts.join(".")
    };
    let mut bad = envelope.clone();
    bad["envelopeManifestSignedContent"] = flip(
        envelope["envelopeManifestSignedContent"]
            .as_str()
            .expect("m"),
    )
    .into();
    let (status, body) = post(&node, &bad);
    assert_eq!((status, code(&node, &body)), (422, "BSIG".into()));
    let chain = envelope["envelopeTransferChain"].as_array().expect("chain");
    let entries = vec![
        chain[0].as_str().expect("e").to_owned(),
        flip(chain[1].as_str().expect("e")),
    ];
    let bad = foreign.wrap(envelope["transportDocument"].clone(), entries, &[]);
    let (status, body) = post(&node, &bad);
    assert_eq!((status, code(&node, &body)), (422, "BSIG".into()));

    // A platform this node does not trust.
    let mut stranger = Foreign::new();
    stranger.platform = testkit::key(93);
    let untrusted = stranger.envelope("PINT0003", &buyer, &[]);
    let (status, body) = post(&node, &untrusted);
    assert_eq!((status, code(&node, &body)), (422, "BSIG".into()));

    // A recipient not hosted here.
    let elsewhere = foreign_party("Someone Else", "someone@elsewhere");
    let wrong = foreign.envelope("PINT0004", &elsewhere, &[]);
    let (status, body) = post(&node, &wrong);
    assert_eq!((status, code(&node, &body)), (422, "BENV".into()));
    let reason = answer(&node, &body)["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(reason.contains("addressed to platform FRGN"), "{reason}");
    // Issue 16: our buyer's codes, but the envelope says the recipient is on another platform (the
    // conformance suite's WRONG_RECIPIENT_PLATFORM): BENV, not received.
    let mut misaddressed = buyer.clone();
    misaddressed["eblPlatform"] = "WAVE".into();
    let wrong = foreign.envelope("PINT0004B", &misaddressed, &[]);
    let (status, body) = post(&node, &wrong);
    assert_eq!((status, code(&node, &body)), (422, "BENV".into()));
    let mut stranger = buyer.clone();
    stranger["identifyingCodes"][0]["partyCode"] = "nobody".into();
    let wrong = foreign.envelope("PINT0004C", &stranger, &[]);
    let (status, body) = post(&node, &wrong);
    assert_eq!((status, code(&node, &body)), (422, "BENV".into()));
    let reason = answer(&node, &body)["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(reason.contains("not a party hosted"), "{reason}");

    for key in [&node.cast.buyer.key, &node.cast.operator] {
        assert!(bills_of(&node, key).is_empty(), "nothing was imported");
    }
    let metrics = node.metrics();
    assert!(
        metrics.contains("ebl_pint_answers_total{code=\"BSIG\"} 3"),
        "{metrics}"
    );
}

#[test]
fn additional_documents_are_checked_and_awaited() {
    let invoice: &[u8] = b"%PDF-1.4 an invoice";
    let packing: &[u8] = b"%PDF-1.4 a packing list";
    let (mut foreign, node, buyer) = receiving();
    let envelope = foreign.envelope("PINT0005", &buyer, &[invoice, packing]);
    let (invoice_sum, packing_sum) = (Hash::of(invoice).to_hex(), Hash::of(packing).to_hex());

    // Started, not finished: both documents are missing.
    let (status, started) = post(&node, &envelope);
    assert_eq!(status, 201, "{started}");
    let reference = started["envelopeReference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let mut missing: Vec<&str> = started["missingAdditionalDocumentChecksums"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    missing.sort();
    let mut expected = vec![invoice_sum.as_str(), packing_sum.as_str()];
    expected.sort();
    assert_eq!(missing, expected);

    // Finishing now: MDOC, naming both.
    let (status, body) = finish(&node, &reference);
    let payload = answer(&node, &body);
    assert_eq!(
        (status, payload["responseCode"].as_str()),
        (409, Some("MDOC"))
    );
    assert_eq!(
        payload["missingAdditionalDocumentChecksums"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The invoice, valid.
    assert_eq!(
        put_document(&node, &reference, &invoice_sum, invoice).0,
        204
    );
    // Corrupted: other bytes under the packing list's checksum. Unrelated: a checksum the manifest
    // does not name. Both INCD, and the transfer stays open.
    let (status, body) = put_document(&node, &reference, &packing_sum, b"%PDF-1.4 corrupted");
    assert_eq!((status, code(&node, &body)), (409, "INCD".into()));
    let unrelated = Hash::of(b"unrelated").to_hex();
    let (status, body) = put_document(&node, &reference, &unrelated, b"unrelated");
    assert_eq!((status, code(&node, &body)), (409, "INCD".into()));
    // An unknown transfer, a malformed checksum, a body that is not base64 in a JSON string.
    assert_eq!(
        put_document(&node, &"0".repeat(64), &invoice_sum, invoice).0,
        404
    );
    assert_eq!(put_document(&node, &reference, "xyz", invoice).0, 400);
    let path = format!("/v3/envelopes/{reference}/additional-documents/{invoice_sum}");
    assert_eq!(send(&node, "PUT", &path, b"not json").0, 400);

    // A retry of the start keeps what was received: only the packing list is missing.
    let (status, started) = post(&node, &envelope);
    assert_eq!(status, 201, "{started}");
    assert_eq!(
        started["missingAdditionalDocumentChecksums"],
        json!([packing_sum])
    );
    let (status, body) = finish(&node, &reference);
    assert_eq!((status, code(&node, &body)), (409, "MDOC".into()));

    assert_eq!(
        put_document(&node, &reference, &packing_sum, packing).0,
        204
    );
    let (status, body) = finish(&node, &reference);
    let payload = answer(&node, &body);
    assert_eq!(
        (status, payload["responseCode"].as_str()),
        (200, Some("RECE")),
        "{payload}"
    );
    assert_eq!(
        payload["receivedAdditionalDocumentChecksums"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    // The documents were kept durably, under their checksums.
    for (sum, content) in [(&invoice_sum, invoice), (&packing_sum, packing)] {
        let kept = std::fs::read(node.data().pint_documents().join(sum)).expect("kept");
        assert_eq!(kept, content);
    }
    // Finishing again (the answer was lost): DUPE.
    let (status, body) = finish(&node, &reference);
    assert_eq!((status, code(&node, &body)), (200, "DUPE".into()));
    let buyer_key = node.cast.buyer.key.clone();
    let bills = bills_of(&node, &buyer_key);
    assert_eq!(bills.len(), 1);

    // The bill's parties read the documents it arrived with, each checked against its checksum.
    let bill = bills[0]["id"].as_str().expect("id").to_owned();
    let (status, listed) = node.get_as(&format!("/v1/bills/{bill}/documents"), &buyer_key);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert!(listed
        .as_array()
        .expect("list")
        .iter()
        .all(|d| d["available"] == true));
    for (sum, content) in [(&invoice_sum, invoice), (&packing_sum, packing)] {
        let path = format!("/v1/bills/{bill}/documents/{sum}");
        let (status, doc) = node.get_as(&path, &buyer_key);
        assert_eq!(status, 200, "{doc}");
        let bytes = ebl_pint::base64_decode(doc["content"].as_str().expect("content"));
        assert_eq!(bytes.as_deref(), Some(content));
        // Not to someone with no part in the bill.
        let (status, _) = node.get_as(&path, &node.cast.buyer2.key);
        assert_eq!(status, 403);
    }
    // Only what the bill's envelope names, and only intact.
    let other = Hash::of(b"other").to_hex();
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}/documents/{other}"), &buyer_key);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("unknown_document"))
    );
    std::fs::write(node.data().pint_documents().join(&invoice_sum), b"tampered").expect("write");
    let (status, body) = node.get_as(
        &format!("/v1/bills/{bill}/documents/{invoice_sum}"),
        &buyer_key,
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (500, Some("storage_corrupt"))
    );
}

#[test]
fn schema_errors_are_answered_400_unsigned() {
    let node = receiving_node(&Foreign::new());
    for body in [
        &b"not json"[..],
        b"[]",
        br#"{"transportDocument": {}}"#,
        br#"{"transportDocument": {}, "envelopeManifestSignedContent": "a.b.c", "envelopeTransferChain": []}"#,
    ] {
        let (status, error) = send(&node, "POST", "/v3/envelopes", body);
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["statusCode"], 400);
        assert_eq!(error["httpMethod"], "POST");
        assert!(error["errors"].is_array(), "{error}");
    }
}

/// Finding 7 of the attack review: 4 MiB of junk shaped like an envelope was parsed twice into JSON
/// trees with no bound on concurrency (64 at once took the node to 1.8 GiB). Junk deeper or wider than
/// any envelope is refused by its shape, before it is parsed, 64 at once, and the node goes on serving.
#[test]
fn regression_junk_shaped_like_an_envelope_is_refused_before_it_is_parsed() {
    let node = receiving_node(&Foreign::new());
    let deep = format!(
        "{{\"transportDocument\": {}{}}}",
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    let wide = format!(
        "{{\"transportDocument\": [{}]}}",
        vec!["[]"; 1_000_000].join(",")
    );
    std::thread::scope(|s| {
        for i in 0..64 {
            let (node, body) = (&node, if i % 2 == 0 { &deep } else { &wide });
            s.spawn(move || {
                let (status, error) = send(node, "POST", "/v3/envelopes", body.as_bytes());
                assert_eq!(status, 400, "{error}");
                let reason = error.to_string();
                assert!(
                    reason.contains("nested deeper") || reason.contains("more than"),
                    "{reason}"
                );
            });
        }
    });
    assert_eq!(node.get("/v1/head").0, 200);
}

#[test]
fn receiver_validation_names_hosted_parties_only() {
    let node = receiving_node(&Foreign::new());
    let ask = |provider: &str, code: &str| {
        send(
            &node,
            "POST",
            "/v3/receiver-validation",
            json!({ "codeListProvider": provider, "partyCode": code })
                .to_string()
                .as_bytes(),
        )
    };
    let (status, body) = ask(HERE, &node.cast.buyer.id.to_hex());
    assert_eq!(
        (status, body["partyName"].as_str()),
        (200, Some("Buyer One"))
    );
    // By an identifier the party registered (the shipper's LEI, as the testkit registers it).
    let shipper = &node.cast.shipper;
    let lei = shipper.identifiers.first().expect("an identifier").clone();
    let (status, body) = ask(&lei.scheme, &lei.value);
    assert_eq!(status, 200, "{body}");
    let (status, _) = ask(HERE, &"ab".repeat(32));
    assert_eq!(status, 404);
    let (status, _) = ask("GLEIF", "nobody");
    assert_eq!(status, 404);
    let (status, _) = send(&node, "POST", "/v3/receiver-validation", b"{}");
    assert_eq!(status, 400);
}

#[test]
fn hostile_envelopes_get_a_code_or_a_typed_error_in_bounded_time_and_nothing_is_stored() {
    let (mut foreign, node, buyer) = receiving();
    let envelope = foreign.envelope("PINT0009", &buyer, &[]);
    let chain = envelope["envelopeTransferChain"]
        .as_array()
        .expect("chain")
        .clone();

    // A chain of thousands of entries: refused by the named limit before any signature is checked.
    let long: Vec<String> = (0..ebl_pint::TRANSFER_CHAIN_ENTRIES_MAX + 1)
        .map(|_| chain[1].as_str().expect("e").to_owned())
        .collect();
    let long = foreign.wrap(envelope["transportDocument"].clone(), long, &[]);
    let (status, body) = post(&node, &long);
    assert_eq!((status, code(&node, &body)), (422, "BENV".into()));

    // A body over the node's request limit: 413, unsigned (it never became a transfer).
    // One byte over, so that the node reads it all before it answers (a client still sending when the
    // node answers and closes would see a broken pipe instead of the 413).
    let limit = ebl_node::limits::REQUEST_BODY_BYTES_MAX;
    let mut huge = envelope.clone();
    huge["transportDocument"]["padding"] = "".into();
    let base = serde_json::to_vec(&huge).expect("json").len();
    huge["transportDocument"]["padding"] = "x".repeat(limit + 1 - base).into();
    let body = serde_json::to_vec(&huge).expect("json");
    assert_eq!(body.len(), limit + 1);
    let (status, _) = send(&node, "POST", "/v3/envelopes", &body);
    assert_eq!(status, 413);

    // A document too large to be one (over DOCUMENT_BYTES_MAX), and an envelope too large to import
    // (over ENVELOPE_BYTES_MAX), both under the request limit: they verify, but cannot become bills.
    for (padding, reason) in [
        (ebl_core::limits::DOCUMENT_BYTES_MAX, "bytes"),
        (
            ebl_core::limits::ENVELOPE_BYTES_MAX,
            "cannot be imported here",
        ),
    ] {
        let mut document = envelope["transportDocument"].clone();
        document["transportDocumentReference"] = "PINT0010".into();
        document["padding"] = "x".repeat(padding).into();
        let big = foreign.envelope_for(document, &buyer, &[]);
        let (status, body) = post(&node, &big);
        let payload = answer(&node, &body);
        assert_eq!(
            (status, payload["responseCode"].as_str()),
            (422, Some("BENV"))
        );
        let text = payload["reason"].as_str().unwrap_or("");
        assert!(text.contains(reason), "{text}");
    }

    // The `none` algorithm, and an unknown one.
    for alg in ["none", "HS256"] {
        let m = envelope["envelopeManifestSignedContent"]
            .as_str()
            .expect("m");
        let mut parts: Vec<String> = m.split('.').map(str::to_owned).collect();
        parts[0] = base64url_encode(json!({ "alg": alg }).to_string().as_bytes());
        let mut e = envelope.clone();
        e["envelopeManifestSignedContent"] = parts.join(".").into();
        let (status, body) = post(&node, &e);
        assert_eq!((status, code(&node, &body)), (422, "BSIG".into()), "{alg}");
    }

    // Truncated JSON.
    let text = envelope.to_string();
    let (status, _) = send(
        &node,
        "POST",
        "/v3/envelopes",
        &text.as_bytes()[..text.len() / 2],
    );
    assert_eq!(status, 400);

    assert!(
        bills_of(&node, &node.cast.operator).is_empty(),
        "nothing was imported"
    );
}

#[test]
fn open_transfers_and_document_sizes_are_bounded() {
    let (mut foreign, node, buyer) = receiving();

    // The largest document is received; one byte more does not fit a request body.
    let largest = vec![7u8; ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX];
    let over = vec![7u8; ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX + 1];
    let envelope = foreign.envelope("PINT2000", &buyer, &[&largest, &over]);
    let (status, started) = post(&node, &envelope);
    assert_eq!(status, 201, "{started}");
    let reference = started["envelopeReference"]
        .as_str()
        .expect("reference")
        .to_owned();
    let (status, _) = put_document(&node, &reference, &Hash::of(&largest).to_hex(), &largest);
    assert_eq!(status, 204);
    let (status, _) = put_document(&node, &reference, &Hash::of(&over).to_hex(), &over);
    assert_eq!(status, 413);

    // TRANSFERS_ACTIVE_MAX transfers may wait for their documents; one more is told to retry later,
    // while a retry of an open one is still taken.
    let document: &[u8] = b"%PDF-1.4 waiting";
    let mut last = Value::Null;
    for i in 1..ebl_pint::TRANSFERS_ACTIVE_MAX {
        last = foreign.envelope(&format!("PINT3{i:03}"), &buyer, &[document]);
        let (status, body) = post(&node, &last);
        assert_eq!(status, 201, "transfer {i}: {body}");
    }
    let one_more = foreign.envelope("PINT4000", &buyer, &[document]);
    let (status, body) = post(&node, &one_more);
    assert_eq!(
        (status, body["statusCode"].as_u64()),
        (503, Some(503)),
        "{body}"
    );
    let (status, _) = post(&node, &last);
    assert_eq!(status, 201, "a retry replaces its own open transfer");
}

/// Issue 13: open PINT transfers never expired, so a sender could hold receiving slots for ever.
#[test]
fn regression_an_open_transfer_expires() {
    let invoice: &[u8] = b"%PDF-1.4 an invoice";
    let foreign = Foreign::new();
    let mut node = TestNode::start_on(
        Settings {
            pint_transfer_open_ms: 300,
            ..Settings::default()
        },
        HERE,
    );
    trust(&foreign, &node);
    node.restart();
    let buyer = local("Buyer One", node.cast.buyer.id);
    let mut foreign = foreign;
    let envelope = foreign.envelope("PINT0099", &buyer, &[invoice]);
    let opened = std::time::Instant::now();
    let (status, started) = post(&node, &envelope);
    assert_eq!(status, 201, "{started}");
    let reference = started["envelopeReference"]
        .as_str()
        .expect("reference")
        .to_owned();
    // Still open: asked to finish, it names the missing document, until its time is up; then it is
    // forgotten (waited for, not slept on: at most 10 s).
    let forgotten = loop {
        let (status, _) = finish(&node, &reference);
        if status == 404 {
            break opened.elapsed();
        }
        assert_eq!(status, 409, "an open transfer names its missing document");
        assert!(
            opened.elapsed() < std::time::Duration::from_secs(10),
            "the transfer was never forgotten"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        forgotten >= std::time::Duration::from_millis(300),
        "forgotten after {forgotten:?}, before its 300 ms"
    );
    // The sender starts again, and is heard.
    let (status, _) = post(&node, &envelope);
    assert_eq!(status, 201);
}

/// Issue 16: a finish retried after `RECE` answered `DUPE` with no documents, and after a restart 404
/// (finished transfers were remembered in memory only).
#[test]
fn regression_a_finish_retried_after_a_restart_is_dupe_with_every_document() {
    let invoice: &[u8] = b"%PDF-1.4 the invoice of I16";
    let (mut foreign, mut node, buyer) = receiving();
    let envelope = foreign.envelope("PINT-I16-1", &buyer, &[invoice]);
    let (status, started) = post(&node, &envelope);
    assert_eq!(status, 201, "{started}");
    let reference = started["envelopeReference"]
        .as_str()
        .expect("ref")
        .to_owned();
    let sum = Hash::of(invoice).to_hex();
    assert_eq!(put_document(&node, &reference, &sum, invoice).0, 204);
    let (status, body) = finish(&node, &reference);
    assert_eq!((status, code(&node, &body)), (200, "RECE".into()));

    let dupe = |node: &TestNode| {
        let (status, body) = finish(node, &reference);
        assert_eq!(status, 200, "{body}");
        let payload = answer(node, &body);
        assert_eq!(payload["responseCode"], "DUPE", "{payload}");
        assert_eq!(
            payload["receivedAdditionalDocumentChecksums"],
            json!([sum]),
            "a DUPE lists every additional document of the transfer"
        );
        assert_eq!(
            payload["duplicateOfAcceptedEnvelopeTransferChainEntrySignedContent"],
            envelope["envelopeTransferChain"][1]
        );
    };
    dupe(&node);
    node.restart();
    dupe(&node);
    // A retried start after the restart: DUPE too, from the bill the import left.
    let (status, body) = post(&node, &envelope);
    let payload = answer(&node, &body);
    assert_eq!(
        (status, payload["responseCode"].as_str()),
        (200, Some("DUPE"))
    );
    assert_eq!(payload["receivedAdditionalDocumentChecksums"], json!([sum]));
    // A reference that names no file is a 404, whatever it looks like.
    for bogus in ["../../node.key", &"0".repeat(64)] {
        assert_eq!(finish(&node, bogus).0, 404, "{bogus}");
    }
}

/// Issue 16: no answer carried the `API-Version` header the spec defines.
#[test]
fn regression_every_v3_answer_names_its_api_version() {
    let (mut foreign, node, buyer) = receiving();
    let envelope = foreign.envelope("PINT-I16-2", &buyer, &[]);
    let body = serde_json::to_vec(&envelope).expect("json");
    for (method, path, body) in [
        ("POST", "/v3/envelopes", &body[..]),
        ("POST", "/v3/envelopes", &b"{}"[..]),
        ("PUT", "/v3/envelopes/nothing/finish-transfer", &b""[..]),
        ("POST", "/v3/receiver-validation", &b"{}"[..]),
    ] {
        let url = node.url(path);
        let request = match method {
            "POST" => agent().post(&url),
            _ => agent().put(&url),
        };
        let response = request
            .header("content-type", "application/json")
            .send(body)
            .expect("HTTP");
        let version = response
            .headers()
            .get("api-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert_eq!(
            version.as_deref(),
            Some(ebl_node::pint::API_VERSION),
            "{method} {path} ({})",
            response.status()
        );
    }
}

/// Issue 16: an `ENDORSE_TO_ORDER` notification became possession by its recipient. It is received
/// (`RECE`, then `DUPE`) and kept, and no bill appears: possession stayed on the sending platform. When
/// the bill itself comes later, it is imported as any other.
#[test]
fn regression_an_endorsement_notification_is_received_but_is_not_possession() {
    let (mut foreign, mut node, buyer) = receiving();
    let notice = foreign.envelope_ending("PINT-I16-3", &[("ENDORSE_TO_ORDER", &buyer)], &[]);
    let (status, body) = post(&node, &notice);
    assert_eq!((status, code(&node, &body)), (200, "RECE".into()));
    let buyer_key = node.cast.buyer.key.clone();
    assert!(
        bills_of(&node, &buyer_key).is_empty(),
        "no bill: possession did not move"
    );
    let reference = Hash::of(
        notice["envelopeTransferChain"][1]
            .as_str()
            .expect("entry")
            .as_bytes(),
    )
    .to_hex();
    let kept = node
        .data()
        .pint()
        .join("finished")
        .join(format!("{reference}.json"));
    let record: Value = serde_json::from_slice(&std::fs::read(&kept).expect("kept")).expect("json");
    assert!(record["notification"].is_string(), "{record}");
    node.restart();
    let (status, body) = post(&node, &notice);
    assert_eq!((status, code(&node, &body)), (200, "DUPE".into()));
    // Possession follows: the bill arrives, endorsed and transferred to the buyer.
    let bill = foreign.envelope_ending(
        "PINT-I16-3",
        &[("ENDORSE_TO_ORDER", &buyer), ("TRANSFER", &buyer)],
        &[],
    );
    let (status, body) = post(&node, &bill);
    assert_eq!((status, code(&node, &body)), (200, "RECE".into()));
    assert_eq!(bills_of(&node, &buyer_key).len(), 1);
}

/// Polls the bill's status on `node` until it is no longer `state` (or 30 s pass).
fn status_after(node: &TestNode, bill: &str, state: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, body) = node.get_as(&format!("/v1/bills/{bill}"), &node.cast.operator);
        assert_eq!(status, 200, "{body}");
        let now = body["bill"]["status"].clone();
        if now.get(state).is_none() || std::time::Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Issue 16: a bill that arrived with additional documents leaves with them. Received here (EBLT) from
/// the foreign platform with an invoice and a packing list, it is sent on to another ebl platform
/// (EBLB), whose receiver asks for both documents; this node uploads them from what it kept, and the
/// buyer there reads them, intact.
#[test]
fn a_bill_received_with_documents_is_sent_on_with_them() {
    let invoice: &[u8] = b"%PDF-1.4 the invoice that travels";
    let packing: &[u8] = b"%PDF-1.4 the packing list that travels";
    let (mut foreign, mut here, buyer) = receiving();
    let mut there = TestNode::start_on(Settings::default(), "EBLB");
    trust(&foreign, &there);
    let (_, here_jwk) = here.get("/v1/pint/jwk");
    let write = |node: &TestNode, name: &str, content: &str| {
        let path = node.data().pint_trust().join(name);
        std::fs::create_dir_all(path.parent().expect("a platform's directory")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    };
    write(&there, &format!("{HERE}/node.jwk"), &here_jwk.to_string());
    there.restart();
    let (_, there_jwk) = there.get("/v1/pint/jwk");
    write(&here, "EBLB/node.jwk", &there_jwk.to_string());
    write(&here, "EBLB/url", &there.url(""));
    here.restart();

    // From the foreign platform to our buyer, with both documents.
    let envelope = foreign.envelope("PINT-DOCS-1", &buyer, &[invoice, packing]);
    let (status, started) = post(&here, &envelope);
    assert_eq!(status, 201, "{started}");
    let reference = started["envelopeReference"]
        .as_str()
        .expect("reference")
        .to_owned();
    for content in [invoice, packing] {
        let sum = Hash::of(content).to_hex();
        assert_eq!(put_document(&here, &reference, &sum, content).0, 204);
    }
    let (status, body) = finish(&here, &reference);
    assert_eq!((status, code(&here, &body)), (200, "RECE".into()));
    let buyer_key = here.cast.buyer.key.clone();
    let bill = bills_of(&here, &buyer_key)[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Our buyer sends it on to the buyer on EBLB.
    let to = ebl_core::ForeignParty {
        platform: "EBLB".into(),
        name: "Buyer One".into(),
        codes: vec![ebl_core::PartyCode {
            provider: "EBLB".into(),
            code: there.cast.buyer.id.to_hex(),
        }],
    };
    let id: ebl_core::BillId = bill.parse().expect("bill id");
    crate::support::assert_accepted(
        &here.act(ebl_core::Action::SendOut { bill: id, to }, &[&buyer_key]),
    );
    let settled = status_after(&here, &bill, "sending_out");
    assert!(settled["transferred_out"].is_object(), "{settled}");

    // There: the buyer holds it, and reads both documents, as they left the foreign platform.
    let there_buyer = there.cast.buyer.key.clone();
    let bills = bills_of(&there, &there_buyer);
    assert_eq!(bills.len(), 1, "{bills:?}");
    let arrived = bills[0]["id"].as_str().expect("id").to_owned();
    let (status, listed) = there.get_as(&format!("/v1/bills/{arrived}/documents"), &there_buyer);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    for content in [invoice, packing] {
        let sum = Hash::of(content).to_hex();
        let (status, doc) = there.get_as(
            &format!("/v1/bills/{arrived}/documents/{sum}"),
            &there_buyer,
        );
        assert_eq!(status, 200, "{doc}");
        let bytes = ebl_pint::base64_decode(doc["content"].as_str().expect("content"));
        assert_eq!(bytes.as_deref(), Some(content));
    }
}

#[test]
fn a_node_given_an_x509_key_signs_its_envelopes_with_the_chain_a_gateway_verifies() {
    let mut node = TestNode::start_on(Settings::default(), HERE);
    let (key_pem, chain_pem, ca_pem) = certified_platform_key();
    let signing = node.data().pint_signing();
    std::fs::create_dir_all(&signing).expect("mkdir");
    std::fs::write(signing.join("key.pem"), &key_pem).expect("key");
    std::fs::write(signing.join("chain.pem"), &chain_pem).expect("chain");
    node.restart();

    let bill = node.issue("X509-OUT-1");
    let (status, envelope) = node.get_as(&format!("/v1/bills/{bill}/pint"), &node.cast.shipper.key);
    assert_eq!(status, 200, "{envelope}");
    let first = envelope["envelopeTransferChain"][0]
        .as_str()
        .expect("entry");
    let header: Value = serde_json::from_slice(
        &ebl_pint::base64url_decode(first.split('.').next().expect("header")).expect("b64"),
    )
    .expect("json");
    assert_eq!(header["alg"], "ES256", "{header}");
    assert_eq!(header["x5c"].as_array().map(Vec::len), Some(2), "{header}");
    // A receiver that trusts only the consortium's CA (as the platform, and for its carriers'
    // manifests) verifies the envelope from the chains it carries.
    let mut trust = ebl_pint::TrustStore::default();
    for binding in [
        ebl_pint::Binding::platform(HERE),
        ebl_pint::Binding::carrier(HERE, "SMDG", "MSC"),
    ] {
        trust.add_pem(ca_pem.as_bytes(), &binding).expect("CA");
    }
    let verdict = ebl_pint::verify_envelope(
        envelope.to_string().as_bytes(),
        &trust.at_time(crate::support::now_ms()),
    );
    assert!(verdict.is_ok(), "{verdict:?}");
    // The key a receiver is given names its chain.
    let (_, jwk) = node.get("/v1/pint/jwk");
    assert_eq!((&jwk["kty"], &jwk["alg"]), (&json!("EC"), &json!("ES256")));
    assert_eq!(jwk["x5c"].as_array().map(Vec::len), Some(2));

    // A key that is not the certificate's: the node does not start, and says which directory.
    let (other_key, _, _) = certified_platform_key();
    std::fs::write(signing.join("key.pem"), other_key).expect("key");
    node.server.stop().expect("stop");
    let Err(refused) = ebl_node::open_with(&node.data(), Settings::default()) else {
        panic!("a node whose signing key is not its certificate's started");
    };
    assert!(
        refused.to_string().contains("signing")
            && refused.to_string().contains("not the private key's"),
        "{refused}"
    );
    std::fs::write(signing.join("key.pem"), &key_pem).expect("key");
    node.restart();
}
