//! PINT 3.0 envelopes from pint-demo (signed with real Ed25519 and RSA keys): received, and every kind of
//! tampering answered with its PINT code.

#![allow(
    clippy::cast_possible_truncation,
    reason = "fixtures are numbered by small indices (keys, members, parties) and cast where they are made"
)]

use ebl_pint::testkit::{certified_by_a_ca, certified_platform_key};
use ebl_pint::{
    base64url_decode, base64url_encode, verify_envelope, Binding, PintCode, TrustStore,
};
use serde_json::Value;

const ED25519: &str = include_str!("fixtures/HHL71800000-ebl-envelope-ed25519.json");
const NODOCS: &str = include_str!("fixtures/HHL71800000-ebl-envelope-nodocs-ed25519.json");
const RSA: &str = include_str!("fixtures/HHL71800000-ebl-envelope-rsa.json");
const PLATFORM_KEY: &str = include_str!("fixtures/keys/ed25519-eblplatform.example.com.public.jwk");
const CARRIER_KEY: &str = include_str!("fixtures/keys/ed25519-carrier.example.com.public.jwk");
const RSA_KEY: &str = include_str!("fixtures/keys/rsa-eblplatform.example.com.public.jwk");
const RSA_CARRIER_KEY: &str = include_str!("fixtures/keys/rsa-carrier.example.com.public.jwk");

/// Where pint-demo's keys are bound (as `fixtures/trust/` lays them out): the carrier NMFTA:MMCU
/// issues on CAR1 (CAR2 for RSA) with one key for its entry and its issuance manifest; EBL1 (EBL2)
/// transfers.
const BINDINGS: [(&str, &str, &str); 6] = [
    ("CAR1", "platform.jwk", CARRIER_KEY),
    ("CAR1", "carrier.NMFTA.MMCU.jwk", CARRIER_KEY),
    ("EBL1", "platform.jwk", PLATFORM_KEY),
    ("CAR2", "platform.jwk", RSA_CARRIER_KEY),
    ("CAR2", "carrier.NMFTA.MMCU.jwk", RSA_CARRIER_KEY),
    ("EBL2", "platform.jwk", RSA_KEY),
];

fn trust() -> TrustStore {
    let mut t = TrustStore::default();
    for (platform, name, key) in BINDINGS {
        assert_eq!(t.add_file(platform, name, key.as_bytes()), Ok(1));
    }
    t
}

fn code_of(envelope: &Value) -> PintCode {
    match verify_envelope(&serde_json::to_vec(envelope).expect("json"), &trust()) {
        Ok(v) => v.code,
        Err(f) => f.code,
    }
}

fn envelope() -> Value {
    serde_json::from_str(ED25519).expect("fixture")
}

#[test]
fn the_pint_demo_envelope_is_received() {
    let verdict = verify_envelope(ED25519.as_bytes(), &trust()).expect("received");
    assert_eq!(verdict.code, PintCode::Received);
    assert_eq!(
        verdict.document_checksum.to_hex(),
        "8f765417773a026d4f9ead6187d961d28dffbb7d0a11dda9ba6fee16423bc05a"
    );
    assert_eq!(verdict.actions, ["ISSUE", "TRANSFER"]);
    assert_eq!(verdict.platforms, ["CAR1", "EBL1"]);
    assert_eq!(
        verdict.documents.len(),
        3,
        "visualisation and two supporting documents"
    );
    let nodocs = verify_envelope(NODOCS.as_bytes(), &trust()).expect("received");
    assert!(nodocs.documents.is_empty());
}

#[test]
fn the_rsa_signed_envelope_is_received_too() {
    // DCSA's conformance suite and pint-demo sign with RS256 as well.
    let verdict = verify_envelope(RSA.as_bytes(), &trust()).expect("received");
    assert_eq!(verdict.code, PintCode::Received);
    assert_eq!(
        verdict.document_checksum.to_hex(),
        "8f765417773a026d4f9ead6187d961d28dffbb7d0a11dda9ba6fee16423bc05a"
    );
    let mut e: Value = serde_json::from_str(RSA).expect("fixture");
    let m = e["envelopeManifestSignedContent"]
        .as_str()
        .expect("manifest")
        .to_owned();
    e["envelopeManifestSignedContent"] = flip(&m, 2, 100).into();
    assert_eq!(code_of(&e), PintCode::BadSignature);
}

#[test]
fn unsupported_algorithms_mismatched_and_untrusted_keys_are_bad_signatures() {
    let with = |alg: &str, kid: &str| {
        let mut e = envelope();
        let m = e["envelopeManifestSignedContent"]
            .as_str()
            .expect("m")
            .to_owned();
        let mut parts: Vec<String> = m.split('.').map(str::to_owned).collect();
        parts[0] = base64url_encode(format!(r#"{{"alg":"{alg}","kid":"{kid}"}}"#).as_bytes());
        e["envelopeManifestSignedContent"] = parts.join(".").into();
        verify_envelope(&serde_json::to_vec(&e).expect("json"), &trust()).expect_err("refused")
    };
    let es384 = with("ES384", "YLFVnyMkSsFTvj-H");
    assert_eq!(es384.code, PintCode::BadSignature);
    assert!(es384.reason.contains("unsupported"), "{es384}");
    // An RSA algorithm named with an Ed25519 key's kid: refused, not tried.
    let mismatch = with("RS256", "YLFVnyMkSsFTvj-H");
    assert_eq!(mismatch.code, PintCode::BadSignature);
    assert!(
        mismatch.reason.contains("not a key for RS256"),
        "{mismatch}"
    );
    let mut only_carrier = TrustStore::default();
    only_carrier
        .add_jwks(CARRIER_KEY.as_bytes(), &Binding::platform("CAR1"))
        .expect("jwk");
    only_carrier
        .add_jwks(
            CARRIER_KEY.as_bytes(),
            &Binding::carrier("CAR1", "NMFTA", "MMCU"),
        )
        .expect("jwk");
    let failure =
        verify_envelope(ED25519.as_bytes(), &only_carrier).expect_err("platform key untrusted");
    assert_eq!(
        (failure.code, failure.place.as_str()),
        (PintCode::BadSignature, "transfer chain entry 1"),
        "EBL1's entry is the first signature no trusted key made"
    );
}

#[test]
fn small_rsa_keys_are_not_trusted() {
    let jwk = format!(
        r#"{{"kty":"RSA","kid":"small","n":"{}","e":"AQAB"}}"#,
        base64url_encode(&[0xc5; 128])
    );
    let failure = TrustStore::default()
        .add_jwks(jwk.as_bytes(), &Binding::platform("EBL1"))
        .expect_err("1024 bits");
    assert!(failure.reason.contains("2048"), "{failure}");
}

#[test]
fn envelope_and_jws_sizes_are_bounded() {
    use ebl_pint::{ENVELOPE_BYTES_MAX, JWS_BYTES_MAX};
    let t = TrustStore::default();
    let failure = verify_envelope(&vec![b' '; ENVELOPE_BYTES_MAX + 1], &t).expect_err("big");
    assert!(failure.reason.contains("larger than"), "{failure}");
    let long_jws = format!("{}.b.c", "a".repeat(JWS_BYTES_MAX));
    let e = serde_json::json!({"transportDocument": {}, "envelopeManifestSignedContent": long_jws, "envelopeTransferChain": ["x"]});
    let failure = verify_envelope(&serde_json::to_vec(&e).expect("json"), &t).expect_err("long");
    assert!(failure.reason.contains("JWS longer"), "{failure}");
}

/// Flips one character of a base64url part of a JWS, keeping it valid base64url.
fn flip(jws: &str, part: usize, at: usize) -> String {
    let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
    let bytes = base64url_decode(&parts[part]).expect("base64url");
    let mut bytes = bytes;
    let i = at % bytes.len();
    bytes[i] ^= 0x01;
    parts[part] = base64url_encode(&bytes);
    parts.join(".")
}

#[test]
fn a_flipped_byte_anywhere_is_answered_with_its_code() {
    // Signatures and payloads of the manifest and of every chain entry: BSIG.
    for part in [1, 2] {
        for at in [0, 7, 31] {
            let mut e = envelope();
            let m = e["envelopeManifestSignedContent"]
                .as_str()
                .expect("manifest")
                .to_owned();
            e["envelopeManifestSignedContent"] = flip(&m, part, at).into();
            assert_eq!(
                code_of(&e),
                PintCode::BadSignature,
                "manifest part {part} byte {at}"
            );
            for entry in 0..2 {
                let mut e = envelope();
                let j = e["envelopeTransferChain"][entry]
                    .as_str()
                    .expect("entry")
                    .to_owned();
                e["envelopeTransferChain"][entry] = flip(&j, part, at).into();
                // Changing an entry also breaks the next link or the manifest's pointer, but every
                // signature is checked first (issue 16: a damaged last entry was BENV).
                assert_eq!(
                    code_of(&e),
                    PintCode::BadSignature,
                    "entry {entry} part {part} byte {at}"
                );
            }
        }
    }
    // The document: BENV, never INCD, which is not an answer to a start (issue 16).
    let mut e = envelope();
    e["transportDocument"]["declaredValue"] = 1231.2.into();
    assert_eq!(code_of(&e), PintCode::BadEnvelope);
    let mut e = envelope();
    e["transportDocument"]["x-extra"] = "added".into();
    assert_eq!(code_of(&e), PintCode::BadEnvelope);
    // Links: a missing first entry, swapped entries, an entry repeated: BENV.
    let mut e = envelope();
    e["envelopeTransferChain"]
        .as_array_mut()
        .expect("chain")
        .remove(0);
    assert_eq!(code_of(&e), PintCode::BadEnvelope);
    let mut e = envelope();
    e["envelopeTransferChain"]
        .as_array_mut()
        .expect("chain")
        .swap(0, 1);
    assert_eq!(code_of(&e), PintCode::BadEnvelope);
    let mut e = envelope();
    let first = e["envelopeTransferChain"][0].clone();
    e["envelopeTransferChain"]
        .as_array_mut()
        .expect("chain")
        .insert(1, first);
    assert_eq!(code_of(&e), PintCode::BadEnvelope);
}

#[test]
fn malformed_envelopes_are_bad_envelopes() {
    let t = trust();
    for bad in [&b"not json"[..], b"{}", b"[]", br#"{"transportDocument":{},"envelopeManifestSignedContent":"a.b.c","envelopeTransferChain":[]}"#] {
        assert_eq!(verify_envelope(bad, &t).expect_err("bad").code, PintCode::BadEnvelope);
    }
    // A JWS with the `none` algorithm is never accepted.
    let mut e = envelope();
    let header = base64url_encode(br#"{"alg":"none"}"#);
    let m = e["envelopeManifestSignedContent"]
        .as_str()
        .expect("m")
        .to_owned();
    let payload = m.split('.').nth(1).expect("payload").to_owned();
    e["envelopeManifestSignedContent"] = format!("{header}.{payload}.").into();
    assert_eq!(code_of(&e), PintCode::BadSignature);
    // Thousands of entries: refused by the limit, not walked.
    let mut e = envelope();
    let entry = e["envelopeTransferChain"][1].clone();
    e["envelopeTransferChain"] =
        Value::Array(vec![entry; ebl_pint::TRANSFER_CHAIN_ENTRIES_MAX + 1]);
    let failure =
        verify_envelope(&serde_json::to_vec(&e).expect("json"), &t).expect_err("too long");
    assert_eq!(
        (failure.code, failure.place.as_str()),
        (PintCode::BadEnvelope, "envelopeTransferChain")
    );
    // Unknown fields are tolerated: the DCSA schemas are open.
    let mut e = envelope();
    e["x-unknown"] = "kept".into();
    assert_eq!(code_of(&e), PintCode::Received);
}

/// A whole lifecycle (endorse, transfer, pledge, release, surrender, accept) exported by the node's
/// key: the envelope, its document, and the cast.
fn exported_lifecycle() -> (Value, ebl_core::Document, ebl_core::testkit::Cast) {
    use ebl_core::testkit::{self, Cast};
    use ebl_core::{Action, Ledger, Signatures, SignedTransaction};
    use ebl_pint::{export_envelope, Exported};

    let cast = Cast::new();
    let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
    let chain = genesis.chain_id();
    let mut ledger = Ledger::new(genesis);
    let mut log: Vec<SignedTransaction> = Vec::new();
    for tx in cast.registrations(chain) {
        ledger.apply(&tx, Signatures::Verify).expect("register");
    }
    let tx = cast.issue(chain, "PINT-X", 2).expect("issue");
    let bill = tx.id();
    ledger.apply(&tx, Signatures::Verify).expect("issue");
    log.push(tx);
    let steps: Vec<(Action, Vec<&ebl_core::SigningKey>)> = vec![
        (
            Action::EndorseToOrder {
                bill,
                to: cast.buyer.id,
            },
            vec![&cast.shipper.key],
        ),
        (
            Action::Transfer {
                bill,
                to: cast.buyer.id,
            },
            vec![&cast.shipper.key],
        ),
        (
            Action::Pledge {
                bill,
                pledgee: cast.bank.id,
                loan: testkit::loan("L-P", 500),
            },
            vec![&cast.buyer.key, &cast.bank.key],
        ),
        (Action::Release { bill }, vec![&cast.bank.key]),
        (Action::SurrenderForDelivery { bill }, vec![&cast.buyer.key]),
        (Action::AcceptSurrender { bill }, vec![&cast.carrier.key]),
    ];
    for (i, (action, signers)) in steps.into_iter().enumerate() {
        let head = ledger.bill(&bill).expect("bill").head;
        let tx = testkit::signed(chain, head, 3 + i as u64, action, &signers);
        ledger.apply(&tx, Signatures::Verify).expect("step");
        log.push(tx);
    }
    let history: Vec<Exported<'_>> = log
        .iter()
        .map(|t| Exported {
            transaction: t,
            time_ms: t.body.time_ms,
        })
        .collect();
    let document = testkit::to_order_document("PINT-X").expect("document");
    let envelope = export_envelope(&document, &history, ledger.registry(), "EBLT", &cast.node);
    (envelope, document, cast)
}

#[test]
fn an_exported_bill_is_received_by_our_own_verifier() {
    use ebl_pint::public_jwk;
    let (envelope, document, cast) = exported_lifecycle();
    // Our node signs its entries as platform EBLT, and the issuance as the agent of the carrier it hosts.
    let mut own = TrustStore::default();
    let jwk = public_jwk(&ebl_core::PartyKey::of(&cast.node)).to_string();
    for binding in [
        Binding::platform("EBLT"),
        Binding::carrier("EBLT", "SMDG", "MSC"),
    ] {
        own.add_jwks(jwk.as_bytes(), &binding).expect("jwk");
    }
    let verdict =
        verify_envelope(&serde_json::to_vec(&envelope).expect("json"), &own).expect("received");
    assert_eq!(verdict.code, PintCode::Received);
    assert_eq!(
        verdict.actions,
        [
            "ISSUE",
            "ENDORSE_TO_ORDER",
            "TRANSFER",
            "TRANSFER",
            "TRANSFER",
            "SURRENDER_FOR_DELIVERY",
            "SACC"
        ]
    );
    assert_eq!(verdict.document_checksum, document.checksum());
    // The pledge is visible to a receiver that reads our extension fields.
    let entry = envelope["envelopeTransferChain"][1]
        .as_str()
        .expect("entry");
    let payload: Value = serde_json::from_slice(
        &base64url_decode(entry.split('.').nth(1).expect("payload")).expect("b64"),
    )
    .expect("json");
    assert_eq!(payload["transactions"][2]["x-ebl-action"], "PLEDGE");
    assert_eq!(payload["transactions"][2]["x-ebl-loan"]["currency"], "USD");
    assert_eq!(payload["transactions"][3]["x-ebl-action"], "RELEASE");
    // Another platform's trust store does not accept it.
    let failure = verify_envelope(&serde_json::to_vec(&envelope).expect("json"), &trust())
        .expect_err("untrusted");
    assert_eq!(failure.code, PintCode::BadSignature);
}

#[test]
fn the_kid_is_the_rfc7638_thumbprint() {
    // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 key.
    let x = base64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").expect("x");
    let key = ebl_core::PartyKey::from_bytes(x.try_into().expect("32 bytes")).expect("key");
    assert_eq!(
        ebl_pint::jwk_thumbprint(&key),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
}

/// A P-256 platform key, as DCSA's conformance suite uses.
struct P256Platform(p256::ecdsa::SigningKey);

impl ebl_pint::JwsSigner for P256Platform {
    fn alg(&self) -> &'static str {
        "ES256"
    }
    fn kid(&self) -> String {
        "p256-test-platform".into()
    }
    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::Signature =
            p256::ecdsa::signature::Signer::sign(&self.0, signing_input);
        signature.to_bytes().to_vec()
    }
}

#[test]
fn an_es256_signed_envelope_is_received_with_its_p256_jwk() {
    use ebl_core::testkit::{self, Cast};
    use ebl_core::{Ledger, Signatures};
    let cast = Cast::new();
    let genesis = cast.genesis(1).expect("genesis");
    let chain = genesis.chain_id();
    let mut ledger = Ledger::new(genesis);
    for tx in cast.registrations(chain) {
        ledger.apply(&tx, Signatures::Verify).expect("register");
    }
    let document = testkit::to_order_document("ES-1").expect("document");
    let tx = cast.issue(chain, "ES-1", 2).expect("issue");
    ledger.apply(&tx, Signatures::Verify).expect("issue");
    let history = [ebl_pint::Exported {
        transaction: &tx,
        time_ms: 2,
    }];
    let platform = P256Platform(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("scalar"));
    let envelope = ebl_pint::export_envelope(
        &document,
        &history,
        ledger.registry(),
        "ES-PLATFORM",
        &platform,
    );
    let point = platform.0.verifying_key().to_encoded_point(false);
    let jwk = serde_json::json!({
        "kty": "EC", "crv": "P-256", "kid": "p256-test-platform",
        "x": base64url_encode(point.x().expect("x")), "y": base64url_encode(point.y().expect("y")),
    });
    let mut trust = TrustStore::default();
    for binding in [
        Binding::platform("ES-PLATFORM"),
        Binding::carrier("ES-PLATFORM", "SMDG", "MSC"),
    ] {
        assert_eq!(trust.add_jwks(jwk.to_string().as_bytes(), &binding), Ok(1));
    }
    let text = serde_json::to_vec(&envelope).expect("json");
    assert_eq!(
        verify_envelope(&text, &trust).expect("received").code,
        PintCode::Received
    );
    let mut tampered = envelope.clone();
    let m = tampered["envelopeManifestSignedContent"]
        .as_str()
        .expect("m")
        .to_owned();
    tampered["envelopeManifestSignedContent"] = flip(&m, 2, 5).into();
    let failure = verify_envelope(&serde_json::to_vec(&tampered).expect("json"), &trust)
        .expect_err("flipped");
    assert_eq!(failure.code, PintCode::BadSignature);
}

// ---------------------------------------------------------------------------------------------------
// x5c certificate chains: pint-demo's entries carry the signing platform's full chain.

const ROOT_CA: &str = include_str!("fixtures/certs/root-ca.crt");
const UNTRUSTED_CA: &str = include_str!("fixtures/certs/untrusted-ca.crt");
const INTERMEDIATE_CA: &str = include_str!("fixtures/certs/intermediate-ca.crt");
const EXPIRED_CHAIN: &str =
    include_str!("fixtures/certs/ed25519-eblplatform-expired.example.com-fullchain.crt");
const UNTRUSTED_CHAIN: &str =
    include_str!("fixtures/certs/ed25519-eblplatform-invalid.example.com-fullchain.crt");
/// 2026-11-27: the fixtures' certificates are valid from March 2026 to 2036, the expired one until March 2026.
const NOW_MS: u64 = 1_795_777_193_076;

/// `pem` as the root of every binding pint-demo's envelopes need.
fn roots(pem: &str) -> TrustStore {
    root_store(pem).at_time(NOW_MS)
}

fn root_store(pem: &str) -> TrustStore {
    let mut t = TrustStore::default();
    for (platform, name, _) in BINDINGS {
        let name = name.replace(".jwk", ".pem");
        t.add_file(platform, &name, pem.as_bytes())
            .expect("a PEM certificate");
    }
    t
}

/// The base64 DER certificates of a PEM chain, as an `x5c` header holds them.
fn x5c_of(pem: &str) -> Vec<String> {
    pem.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|c| {
            c.split("-----END CERTIFICATE-----")
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect()
        })
        .collect()
}

/// The envelope with the manifest's JWS header changed by `edit` (its signature then no longer
/// matches, but the chain is checked first, so the reason names the chain).
fn with_manifest_header(edit: impl Fn(&mut Value)) -> Value {
    let mut e = envelope();
    let m = e["envelopeManifestSignedContent"]
        .as_str()
        .expect("manifest")
        .to_owned();
    let mut parts: Vec<String> = m.split('.').map(str::to_owned).collect();
    let mut header: Value =
        serde_json::from_slice(&base64url_decode(&parts[0]).expect("b64")).expect("json");
    edit(&mut header);
    parts[0] = base64url_encode(&serde_json::to_vec(&header).expect("json"));
    e["envelopeManifestSignedContent"] = parts.join(".").into();
    e
}

fn failure(envelope: &Value, trust: &TrustStore) -> ebl_pint::PintFailure {
    verify_envelope(&serde_json::to_vec(envelope).expect("json"), trust).expect_err("refused")
}

#[test]
fn x5c_chains_to_a_trusted_root_are_received_without_any_jwk() {
    for text in [ED25519, NODOCS, RSA] {
        let verdict = verify_envelope(text.as_bytes(), &roots(ROOT_CA)).expect("received");
        assert_eq!(verdict.code, PintCode::Received);
    }
    // The intermediate alone is no root: the chain still ends at the real root, which is not trusted.
    let f = verify_envelope(ED25519.as_bytes(), &roots(INTERMEDIATE_CA)).expect_err("refused");
    assert_eq!(f.code, PintCode::BadSignature);
}

#[test]
fn an_untrusted_root_is_a_bad_signature() {
    let f = verify_envelope(ED25519.as_bytes(), &roots(UNTRUSTED_CA)).expect_err("refused");
    assert_eq!(f.code, PintCode::BadSignature);
    assert!(f.reason.contains("trusted root"), "{f}");
    // The platform certificate of the untrusted CA, against our root (its fixture chain goes on with
    // our intermediate and root, which did not sign it).
    let e = with_manifest_header(|h| h["x5c"] = x5c_of(UNTRUSTED_CHAIN).into());
    let f = failure(&e, &roots(ROOT_CA));
    assert_eq!(f.code, PintCode::BadSignature);
    assert!(f.reason.contains("not signed by the CA after it"), "{f}");
    let leaf = with_manifest_header(|h| h["x5c"] = x5c_of(UNTRUSTED_CHAIN)[..1].to_vec().into());
    let f = failure(&leaf, &roots(ROOT_CA));
    assert!(f.reason.contains("trusted root"), "{f}");
}

#[test]
fn an_expired_certificate_is_a_bad_signature() {
    let e = with_manifest_header(|h| h["x5c"] = x5c_of(EXPIRED_CHAIN).into());
    let f = failure(&e, &roots(ROOT_CA));
    assert_eq!(f.code, PintCode::BadSignature);
    assert!(f.reason.contains("expired"), "{f}");
    // The valid chain, checked at a time before it was issued, is refused the same way.
    let before = root_store(ROOT_CA).at_time(1_000_000_000_000);
    let f = verify_envelope(ED25519.as_bytes(), &before).expect_err("not yet valid");
    assert!(f.reason.contains("not yet valid"), "{f}");
    // And with no time at all, nothing is trusted by certificate.
    let untimed = root_store(ROOT_CA);
    assert_eq!(
        verify_envelope(ED25519.as_bytes(), &untimed)
            .expect_err("no time")
            .code,
        PintCode::BadSignature
    );
}

#[test]
fn a_broken_chain_is_a_bad_signature() {
    let chain = x5c_of(EXPIRED_CHAIN);
    // The leaf without its intermediate: the root did not sign it.
    let leaf_only = with_manifest_header(|h| {
        let x5c = h["x5c"].as_array().expect("x5c").clone();
        h["x5c"] = Value::Array(x5c[..1].to_vec());
    });
    let f = failure(&leaf_only, &roots(ROOT_CA));
    assert_eq!(f.code, PintCode::BadSignature);
    // Certificates out of order, a flipped byte in a certificate, not base64, an empty or over-long chain.
    let reversed = with_manifest_header(|h| {
        let mut x5c = h["x5c"].as_array().expect("x5c").clone();
        x5c.reverse();
        h["x5c"] = Value::Array(x5c);
    });
    let flipped = with_manifest_header(|h| {
        let mut x5c = h["x5c"].as_array().expect("x5c").clone();
        let mut der = ebl_pint::base64_decode(x5c[1].as_str().expect("str")).expect("b64");
        let at = der.len() - 10;
        der[at] ^= 1;
        x5c[1] = ebl_pint::base64_encode(&der).into();
        h["x5c"] = Value::Array(x5c);
    });
    let garbage = with_manifest_header(|h| h["x5c"] = serde_json::json!(["%%%"]));
    let empty = with_manifest_header(|h| h["x5c"] = serde_json::json!([]));
    let long = with_manifest_header(|h| h["x5c"] = serde_json::json!(vec![chain[0].clone(); 9]));
    for e in [reversed, flipped, garbage, empty, long] {
        assert_eq!(failure(&e, &roots(ROOT_CA)).code, PintCode::BadSignature);
    }
}

// ---------------------------------------------------------------------------------------------------
// DCSA's published JSON Schema for PINT 3.0 (2020-12): what we send and answer must validate.

const SCHEMA: &str = include_str!("fixtures/dcsa/pint-v3.0.0.bundle.schema.json");

/// A validator for one of the bundle's definitions.
fn schema(definition: &str) -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_str(SCHEMA).expect("schema");
    schema["$ref"] = format!("#/$defs/{definition}").into();
    jsonschema::draft202012::new(&schema).expect("a valid schema")
}

#[track_caller]
fn assert_valid(definition: &str, value: &Value) {
    let validator = schema(definition);
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{definition}: {errors:#?}");
}

fn payload(jws: &str) -> Value {
    serde_json::from_slice(&base64url_decode(jws.split('.').nth(1).expect("payload")).expect("b64"))
        .expect("json")
}

#[test]
fn exported_envelopes_validate_against_the_dcsa_schema() {
    let (envelope, _, _) = exported_lifecycle();
    assert_valid("EblEnvelope", &envelope);
    assert_valid(
        "EnvelopeManifest",
        &payload(
            envelope["envelopeManifestSignedContent"]
                .as_str()
                .expect("m"),
        ),
    );
    let chain = envelope["envelopeTransferChain"].as_array().expect("chain");
    for entry in chain {
        assert_valid(
            "EnvelopeTransferChainEntry",
            &payload(entry.as_str().expect("e")),
        );
    }
    let first = payload(chain[0].as_str().expect("e"));
    assert_valid(
        "IssuanceManifest",
        &payload(first["issuanceManifestSignedContent"].as_str().expect("im")),
    );
}

#[test]
fn the_schema_check_can_fail() {
    // The pint-demo envelope is valid; without a required member, or with a bad checksum, it is not.
    let good = envelope();
    assert_valid("EblEnvelope", &good);
    let validator = schema("EblEnvelope");
    let mut missing = good.clone();
    missing
        .as_object_mut()
        .expect("object")
        .remove("envelopeTransferChain");
    assert!(!validator.is_valid(&missing));
    let manifest = schema("EnvelopeManifest");
    let mut bad = payload(good["envelopeManifestSignedContent"].as_str().expect("m"));
    assert!(manifest.is_valid(&bad));
    bad["transportDocumentChecksum"] = "XYZ".into();
    assert!(!manifest.is_valid(&bad));
}

#[test]
fn receiver_answers_validate_against_the_dcsa_schema() {
    use ebl_pint::{Finished, Transfer};
    let verdict = verify_envelope(ED25519.as_bytes(), &trust()).expect("received");
    let transfer = Transfer::new(verdict.clone(), ED25519.to_owned());
    assert_valid(
        "EnvelopeTransferStartedResponse",
        &ebl_pint::started_response(&transfer),
    );
    for code in PintCode::ALL {
        assert_eq!(PintCode::from_code(code.code()), Some(code));
        let mut f = Finished::new(code, verdict.last_entry_checksum);
        f.reason = (code != PintCode::Received).then(|| "x".repeat(300));
        f.missing = transfer.missing();
        f.received = transfer.received();
        f.duplicate_of = (code == PintCode::Duplicate).then(|| verdict.last_entry.clone());
        assert_valid("EnvelopeTransferFinishedResponse", &f.to_value());
    }
}

#[test]
fn pint_demo_documents_are_received_under_their_manifest_checksums() {
    use ebl_pint::Transfer;
    let invoice = include_bytes!("fixtures/pint-transfers/HHL71800000-invoice.pdf");
    let packing = include_bytes!("fixtures/pint-transfers/HHL71800000-packing-list.pdf");
    let verdict = verify_envelope(ED25519.as_bytes(), &trust()).expect("received");
    let mut transfer = Transfer::new(verdict, ED25519.to_owned());
    assert_eq!(transfer.missing().len(), 3);
    let sum = |d: &[u8]| ebl_core::Hash::of(d);
    // The packing list under the invoice's checksum: INCD, nothing kept.
    let f = transfer
        .receive_document(sum(invoice), packing.to_vec())
        .expect_err("wrong bytes");
    assert_eq!(f.code, PintCode::IncorrectDocument);
    assert_eq!(transfer.missing().len(), 3);
    transfer
        .receive_document(sum(invoice), invoice.to_vec())
        .expect("the invoice");
    transfer
        .receive_document(sum(packing), packing.to_vec())
        .expect("the packing list");
    // Still missing: the carrier's visualisation (not among the fixtures here).
    assert_eq!(
        transfer
            .missing()
            .iter()
            .map(|h| h.to_hex())
            .collect::<Vec<_>>(),
        ["d870e9d766ca0b9087f86d8d05ea6bf48d166717c0bf375efff54cedeb3d00b8"]
    );
    // A document the manifest does not name.
    let f = transfer
        .receive_document(sum(b"other"), b"other".to_vec())
        .expect_err("unnamed");
    assert_eq!(f.code, PintCode::IncorrectDocument);
}

// ---------------------------------------------------------------------------------------------------
// Where a received envelope's bill goes on this ledger: the rules of `import_action`.

mod placement {
    use ebl_core::testkit::{self, Cast};
    use ebl_core::{Action, Ledger, Signatures, Title};
    use ebl_pint::{import_action, EnvelopeVerdict, PintCode, Placement, Transfer};
    use serde_json::{json, Value};

    const HERE: &str = "EBLT";

    fn ledger(cast: &Cast) -> Ledger {
        let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
        let chain = genesis.chain_id();
        let mut ledger = Ledger::new(genesis);
        for tx in cast.registrations(chain) {
            ledger.apply(&tx, Signatures::Verify).expect("register");
        }
        ledger
    }

    fn hosted(id: ebl_core::PartyId) -> Value {
        json!({ "partyName": "x", "eblPlatform": HERE, "identifyingCodes": [{ "codeListProvider": HERE, "partyCode": id.to_hex() }] })
    }

    fn elsewhere() -> Value {
        json!({ "partyName": "y", "eblPlatform": "FRGN", "identifyingCodes": [{ "codeListProvider": "FRGN", "partyCode": "someone" }] })
    }

    /// A received transfer of `document` whose chain is `steps` (action code, recipient).
    fn transfer(document: Value, steps: &[(&str, Option<Value>)]) -> Transfer {
        let envelope = ebl_core::jcs::canonicalize(&json!({
            "transportDocument": document,
            "envelopeManifestSignedContent": "a.b.c",
            "envelopeTransferChain": ["a.b.c"],
        }))
        .expect("canonical");
        let verdict = EnvelopeVerdict {
            code: PintCode::Received,
            transport_document_reference: "R".into(),
            document_checksum: ebl_core::Hash::of(b"d"),
            actions: steps.iter().map(|(a, _)| (*a).to_owned()).collect(),
            recipients: steps.iter().map(|(_, r)| r.clone()).collect(),
            actors: steps.iter().map(|_| Some(elsewhere())).collect(),
            last_entry_checksum: ebl_core::Hash::of(b"l"),
            last_entry: "a.b.c".into(),
            platforms: vec!["FRGN".into()],
            documents: Vec::new(),
        };
        Transfer::new(verdict, envelope)
    }

    fn to_order(reference: &str) -> Value {
        testkit::to_order_document(reference)
            .expect("document")
            .to_value()
    }

    fn title_of(placement: Placement) -> Title {
        match placement {
            Placement::New(action) => match *action {
                Action::Import { title, .. } => title,
                other => panic!("not an import: {other:?}"),
            },
            other => panic!("not a new import: {other:?}"),
        }
    }

    #[test]
    fn the_recipient_hosted_here_possesses_and_holds_title_as_the_chain_left_it() {
        let cast = Cast::new();
        let ledger = ledger(&cast);
        let buyer = cast.buyer.id;
        let endorsed = transfer(
            to_order("P-1"),
            &[
                ("ISSUE", Some(elsewhere())),
                ("ENDORSE", Some(hosted(buyer))),
                ("TRANSFER", Some(hosted(buyer))),
            ],
        );
        let placement = import_action(&ledger, HERE, &endorsed).expect("placed");
        let Placement::New(action) = &placement else {
            panic!("{placement:?}")
        };
        let Action::Import {
            possessor, carrier, ..
        } = action.as_ref()
        else {
            panic!("{action:?}")
        };
        assert_eq!((*possessor, *carrier), (buyer, cast.carrier.id));
        assert_eq!(
            title_of(placement),
            Title::Order {
                endorsee: buyer,
                may_endorse: false
            },
            "a plain ENDORSE restricts further endorsement"
        );
        // Blank-endorsed: a bearer bill. Issued straight to the recipient (found by its LEI): its order.
        let blank = transfer(
            to_order("P-2"),
            &[
                ("ISSUE", Some(elsewhere())),
                ("BLANK_ENDORSE", None),
                ("TRANSFER", Some(hosted(buyer))),
            ],
        );
        assert_eq!(
            title_of(import_action(&ledger, HERE, &blank).expect("placed")),
            Title::Bearer
        );
        let lei = &cast.shipper.identifiers[0];
        let by_lei = json!({ "eblPlatform": HERE, "identifyingCodes": [{ "codeListProvider": lei.scheme, "partyCode": lei.value }] });
        let issued = transfer(to_order("P-3"), &[("ISSUE", Some(by_lei))]);
        assert_eq!(
            title_of(import_action(&ledger, HERE, &issued).expect("placed")),
            Title::Order {
                endorsee: cast.shipper.id,
                may_endorse: true
            }
        );
    }

    #[test]
    fn what_cannot_become_a_bill_here_is_a_bad_envelope() {
        let cast = Cast::new();
        let ledger = ledger(&cast);
        let buyer = cast.buyer.id;
        let refused = |t: &Transfer, why: &str| {
            let f = import_action(&ledger, HERE, t).expect_err("refused");
            assert_eq!(f.code, PintCode::BadEnvelope);
            assert!(f.reason.contains(why), "{f}");
        };
        // Possession without title: endorsed to someone elsewhere, handed to the buyer.
        refused(
            &transfer(
                to_order("Q-1"),
                &[
                    ("ISSUE", Some(elsewhere())),
                    ("ENDORSE_TO_ORDER", Some(elsewhere())),
                    ("TRANSFER", Some(hosted(buyer))),
                ],
            ),
            "not the endorsee",
        );
        // Issue 16: an envelope for another platform is BENV, not received.
        refused(
            &transfer(to_order("Q-2"), &[("ISSUE", Some(elsewhere()))]),
            "addressed to platform FRGN",
        );
        let stranger = json!({ "partyName": "z", "eblPlatform": HERE, "identifyingCodes": [{ "codeListProvider": HERE, "partyCode": "nobody" }] });
        refused(
            &transfer(to_order("Q-2b"), &[("ISSUE", Some(stranger))]),
            "not a party hosted",
        );
        refused(
            &transfer(
                to_order("Q-3"),
                &[("ISSUE", Some(hosted(buyer))), ("SIGN", None)],
            ),
            "to nobody",
        );
        // Another carrier's document: no carrier here to answer a surrender.
        let mut other = to_order("Q-4");
        other["carrierCode"] = "ZZZ".into();
        refused(
            &transfer(other, &[("ISSUE", Some(hosted(buyer)))]),
            "is not a party on this platform",
        );
        // Not a document this ledger holds (a sea waybill to order).
        let mut waybill = to_order("Q-5");
        waybill["transportDocumentTypeCode"] = "SWB".into();
        refused(
            &transfer(waybill, &[("ISSUE", Some(hosted(buyer)))]),
            "not one this platform holds",
        );
    }

    #[test]
    fn regression_a_surrender_addressed_to_anyone_but_the_carrier_is_benv() {
        let cast = Cast::new();
        let ledger = ledger(&cast);
        let surrender = transfer(
            to_order("S-1"),
            &[
                ("ISSUE", Some(elsewhere())),
                ("SURRENDER_FOR_DELIVERY", Some(hosted(cast.buyer.id))),
            ],
        );
        let f = import_action(&ledger, HERE, &surrender).expect_err("refused");
        assert_eq!(f.code, PintCode::BadEnvelope);
        assert!(f.reason.contains("addressed to the carrier"), "{f}");
    }

    /// Issue 16: a surrender for the carrier hosted here became plain possession by the carrier, with
    /// nothing pending to accept or reject. It now arrives pending delivery, held by the carrier, naming
    /// the surrenderer abroad.
    #[test]
    fn regression_a_surrender_to_the_hosted_carrier_is_not_taken_as_possession() {
        let cast = Cast::new();
        let ledger = ledger(&cast);
        let surrender = transfer(
            to_order("S-2"),
            &[
                ("ISSUE", Some(elsewhere())),
                ("SURRENDER_FOR_DELIVERY", Some(hosted(cast.carrier.id))),
            ],
        );
        let Placement::New(action) = import_action(&ledger, HERE, &surrender).expect("placed")
        else {
            panic!("a new bill");
        };
        let Action::Import {
            possessor,
            surrendered_by,
            ..
        } = *action
        else {
            panic!("an import");
        };
        assert_eq!(possessor, cast.carrier.id);
        let surrenderer = surrendered_by.expect("a surrender");
        assert_eq!(
            (surrenderer.platform.as_str(), surrenderer.name.as_str()),
            ("FRGN", "y")
        );
    }

    /// A surrender for amendment from abroad would be answered with replacements issued to a party
    /// that is not on this ledger: refused, and nothing changes here.
    #[test]
    fn a_surrender_for_amendment_from_another_platform_is_benv() {
        let cast = Cast::new();
        let ledger = ledger(&cast);
        let surrender = transfer(
            to_order("S-3"),
            &[
                ("ISSUE", Some(elsewhere())),
                ("SURRENDER_FOR_AMENDMENT", Some(hosted(cast.carrier.id))),
            ],
        );
        let f = import_action(&ledger, HERE, &surrender).expect_err("refused");
        assert_eq!(f.code, PintCode::BadEnvelope);
        assert!(f.reason.contains("amendment"), "{f}");
    }

    #[test]
    fn regression_an_endorsement_notification_is_not_possession() {
        let cast = Cast::new();
        let ledger = ledger(&cast);
        for code in ["ENDORSE_TO_ORDER", "ENDORSE"] {
            let notified = transfer(
                to_order("N-1"),
                &[
                    ("ISSUE", Some(elsewhere())),
                    (code, Some(hosted(cast.buyer.id))),
                ],
            );
            assert_eq!(
                import_action(&ledger, HERE, &notified).expect("placed"),
                Placement::Notification {
                    recipient: cast.buyer.id
                },
                "{code}"
            );
        }
    }

    #[test]
    fn a_bill_already_here_is_named_not_imported_again() {
        let cast = Cast::new();
        let mut ledger = ledger(&cast);
        let issue = cast.issue(ledger.chain_id(), "HERE-1", 2).expect("issue");
        let bill = issue.id();
        ledger.apply(&issue, Signatures::Verify).expect("issued");
        let again = transfer(
            to_order("HERE-1"),
            &[("ISSUE", Some(hosted(cast.buyer.id)))],
        );
        assert_eq!(
            import_action(&ledger, HERE, &again).expect("placed"),
            Placement::AlreadyHere(bill)
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Issue 16: what DCSA's conformance suite and the spec expect of a receiver, each finding a regression.

mod issue16 {
    use ebl_core::{Hash, PartyKey};
    use ebl_pint::testkit::{foreign_party, ForeignPlatform, FOREIGN};
    use ebl_pint::{
        base64url_decode, base64url_encode, sign_jws, verify_envelope, Binding, PintCode,
        TrustStore,
    };
    use serde_json::{json, Value};

    fn payload(jws: &str) -> Value {
        let part = jws.split('.').nth(1).expect("payload");
        serde_json::from_slice(&base64url_decode(part).expect("b64")).expect("json")
    }

    fn verdict(
        envelope: &Value,
        trust: &TrustStore,
    ) -> Result<ebl_pint::EnvelopeVerdict, ebl_pint::PintFailure> {
        verify_envelope(&serde_json::to_vec(envelope).expect("json"), trust)
    }

    fn recipient() -> Value {
        foreign_party("Buyer", "buyer-1")
    }

    /// The foreign envelope rebuilt with its first entry's payload changed by `edit` and every later
    /// link and signature made again, so only the edit differs.
    fn rebuilt(
        foreign: &mut ForeignPlatform,
        edit: impl Fn(&mut Value, &ForeignPlatform),
    ) -> Value {
        let envelope = foreign.envelope("I16-1", &recipient(), &[]);
        let chain: Vec<String> = envelope["envelopeTransferChain"]
            .as_array()
            .expect("chain")
            .iter()
            .map(|e| e.as_str().expect("entry").to_owned())
            .collect();
        let mut first = payload(&chain[0]);
        edit(&mut first, foreign);
        let first = sign_jws(&foreign.carrier, &first);
        let mut second = payload(&chain[1]);
        second["previousEnvelopeTransferChainEntrySignedContentChecksum"] =
            Hash::of(first.as_bytes()).to_hex().into();
        let second = sign_jws(&foreign.platform, &second);
        foreign.wrap(
            envelope["transportDocument"].clone(),
            vec![first, second],
            &[],
        )
    }

    #[test]
    fn regression_a_start_whose_document_does_not_match_is_benv_never_incd() {
        let mut foreign = ForeignPlatform::new();
        let mut envelope = foreign.envelope("I16-2", &recipient(), &[]);
        envelope["transportDocument"]["transportDocumentReference"] = "I16-X".into();
        let f = verdict(&envelope, &foreign.trust()).expect_err("refused");
        assert_eq!(f.code, PintCode::BadEnvelope, "{f}");
    }

    #[test]
    fn regression_a_damaged_last_entry_signature_is_bsig_before_any_checksum() {
        let mut foreign = ForeignPlatform::new();
        let mut envelope = foreign.envelope("I16-3", &recipient(), &[]);
        let last = envelope["envelopeTransferChain"][1]
            .as_str()
            .expect("e")
            .to_owned();
        let mut parts: Vec<String> = last.split('.').map(str::to_owned).collect();
        let mut sig = base64url_decode(&parts[2]).expect("b64");
        sig[10] ^= 1;
        parts[2] = base64url_encode(&sig);
        // The manifest still names the undamaged entry: the old order answered BENV for that.
        envelope["envelopeTransferChain"][1] = parts.join(".").into();
        let f = verdict(&envelope, &foreign.trust()).expect_err("refused");
        assert_eq!(
            (f.code, f.place.as_str()),
            (PintCode::BadSignature, "transfer chain entry 1"),
            "{f}"
        );
    }

    #[test]
    fn regression_a_trusted_platform_cannot_sign_as_another() {
        // BOLE's key is trusted, but only as BOLE: an entry claiming FRGN signed with it is BSIG.
        let mut foreign = ForeignPlatform::new();
        let envelope = foreign.envelope("I16-4", &recipient(), &[]);
        let mut trust = TrustStore::default();
        let jwk = |k: &ebl_core::SigningKey| ebl_pint::public_jwk(&PartyKey::of(k)).to_string();
        trust
            .add_jwks(
                jwk(&foreign.platform).as_bytes(),
                &Binding::platform("BOLE"),
            )
            .expect("jwk");
        trust
            .add_jwks(
                jwk(&foreign.carrier).as_bytes(),
                &Binding::platform(FOREIGN),
            )
            .expect("jwk");
        trust
            .add_jwks(
                jwk(&foreign.carrier).as_bytes(),
                &Binding::carrier(FOREIGN, "SMDG", "MSC"),
            )
            .expect("jwk");
        let f = verdict(&envelope, &trust).expect_err("refused");
        assert_eq!(f.code, PintCode::BadSignature, "{f}");
        assert!(f.reason.contains("trusted as platform BOLE"), "{f}");
        // Bound to FRGN as well, the same key is accepted.
        trust
            .add_jwks(
                jwk(&foreign.platform).as_bytes(),
                &Binding::platform(FOREIGN),
            )
            .expect("jwk");
        assert!(verdict(&envelope, &trust).is_ok());
    }

    #[test]
    fn regression_an_issuance_manifest_signed_by_a_platform_key_is_bsig() {
        let mut foreign = ForeignPlatform::new();
        let forged = rebuilt(&mut foreign, |first, f| {
            let issuance = payload(first["issuanceManifestSignedContent"].as_str().expect("m"));
            first["issuanceManifestSignedContent"] = sign_jws(&f.platform, &issuance).into();
        });
        let f = verdict(&forged, &foreign.trust()).expect_err("refused");
        assert_eq!(
            (f.code, f.place.as_str()),
            (PintCode::BadSignature, "issuance manifest"),
            "{f}"
        );
        // The carrier's own issuance, rebuilt the same way, is received: the test can tell them apart.
        let honest = rebuilt(&mut foreign, |_, _| {});
        assert!(verdict(&honest, &foreign.trust()).is_ok());
        // And a carrier's key for another carrier does not do either.
        let mut other = TrustStore::default();
        for (path, jwk) in foreign.jwks() {
            let (platform, name) = path.split_once('/').expect("platform/name");
            let name = name.replace("SMDG.MSC", "SMDG.MAEU");
            other
                .add_file(platform, &name, jwk.to_string().as_bytes())
                .expect("jwk");
        }
        let f = verdict(&honest, &other).expect_err("another carrier's key");
        assert_eq!(f.place, "issuance manifest", "{f}");
    }

    /// A JWS as DCSA's conformance tooling signs it: `{"alg": ...}` and nothing else in the header.
    fn sign_without_kid(key: &ebl_core::SigningKey, payload: &Value) -> String {
        let header = base64url_encode(br#"{"alg":"EdDSA"}"#);
        let body = base64url_encode(
            ebl_core::jcs::canonicalize(payload)
                .expect("json")
                .as_bytes(),
        );
        let input = format!("{header}.{body}");
        let sig = ebl_pint::JwsSigner::sign(key, input.as_bytes());
        format!("{input}.{}", base64url_encode(&sig))
    }

    /// An Ed25519 public key as a PEM `PUBLIC KEY` (SubjectPublicKeyInfo, RFC 8410).
    fn public_key_pem(key: &ebl_core::SigningKey) -> String {
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(PartyKey::of(key).as_bytes());
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            ebl_pint::base64_encode(&der)
        )
    }

    #[test]
    fn what_the_conformance_tooling_sends_is_received() {
        // No kid anywhere, keys given as PEM, the issuance manifest beside the chain rather than in
        // its first entry, and the sending platform signing the issuing entry.
        let foreign = ForeignPlatform::new();
        let document = ebl_core::testkit::to_order_document("CTK-1")
            .expect("document")
            .to_value();
        let checksum = Hash::of(
            ebl_core::jcs::canonicalize(&document)
                .expect("c")
                .as_bytes(),
        )
        .to_hex();
        let issuance = sign_without_kid(
            &foreign.carrier,
            &json!({ "documentChecksum": checksum, "issueToChecksum": Hash::of(b"x").to_hex() }),
        );
        let entry = sign_without_kid(
            &foreign.platform,
            &json!({
                "eblPlatform": "BOLE",
                "transportDocumentChecksum": checksum,
                "transactions": [{ "actionCode": "ISSUE", "actionDateTime": "2026-12-02T10:00:00.000Z",
                    "actor": foreign_party("DCSA CTK tester", "1234"), "recipient": recipient() }],
            }),
        );
        let manifest = sign_without_kid(
            &foreign.platform,
            &json!({
                "transportDocumentChecksum": checksum,
                "lastEnvelopeTransferChainEntrySignedContentChecksum": Hash::of(entry.as_bytes()).to_hex(),
                "supportingDocuments": [],
            }),
        );
        let envelope = json!({
            "transportDocument": document,
            "envelopeManifestSignedContent": manifest,
            "envelopeTransferChain": [entry],
            "issuanceManifestSignedContent": issuance,
        });
        let mut trust = TrustStore::default();
        trust
            .add_file(
                "BOLE",
                "platform.pem",
                public_key_pem(&foreign.platform).as_bytes(),
            )
            .expect("pem");
        trust
            .add_file(
                "BOLE",
                "carrier.SMDG.MSC.pem",
                public_key_pem(&foreign.carrier).as_bytes(),
            )
            .expect("pem");
        let received = verdict(&envelope, &trust).expect("received");
        assert_eq!(received.actions, ["ISSUE"]);
        // The suite's "invalid payload": a space appended to the manifest's payload after signing.
        let mut mutated = envelope.clone();
        let parts: Vec<&str> = manifest.split('.').collect();
        let mut body = base64url_decode(parts[1]).expect("b64");
        body.push(b' ');
        mutated["envelopeManifestSignedContent"] =
            format!("{}.{}.{}", parts[0], base64url_encode(&body), parts[2]).into();
        assert_eq!(
            verdict(&mutated, &trust).expect_err("mutated").code,
            PintCode::BadSignature
        );
        // Without kid, keys bound to another platform are not tried.
        let mut elsewhere = TrustStore::default();
        elsewhere
            .add_file(
                "WAVE",
                "platform.pem",
                public_key_pem(&foreign.platform).as_bytes(),
            )
            .expect("pem");
        elsewhere
            .add_file(
                "BOLE",
                "carrier.SMDG.MSC.pem",
                public_key_pem(&foreign.carrier).as_bytes(),
            )
            .expect("pem");
        let f = verdict(&envelope, &elsewhere).expect_err("unbound");
        assert_eq!(f.code, PintCode::BadSignature);
        assert!(
            f.reason
                .contains("no key is trusted to sign as platform BOLE"),
            "{f}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Issue 33: PINT's loose ends, each found against DCSA's material and its reference receiver.

mod issue33 {
    use ebl_pint::testkit::{foreign_party, ForeignPlatform};
    use ebl_pint::{base64url_encode, verify_envelope, JwsSigner, PintCode};
    use serde_json::Value;

    /// A compact JWS over `payload` bytes as they are (not JSON), signed by `key` as ours are.
    fn signed_raw(key: &ed25519_dalek::SigningKey, payload: &[u8]) -> String {
        let header = base64url_encode(br#"{"alg":"EdDSA"}"#);
        let input = format!("{header}.{}", base64url_encode(payload));
        let signature = JwsSigner::sign(key, input.as_bytes());
        format!("{input}.{}", base64url_encode(&signature))
    }

    /// A chain entry validly signed by a trusted platform key whose payload is not JSON was answered
    /// BSIG; DCSA's reference receiver answers BENV: the signature holds, the content is wrong. A
    /// signature no trusted key made over the same bytes is still BSIG.
    #[test]
    fn regression_a_signed_entry_whose_payload_is_not_json_is_a_bad_envelope() {
        let mut foreign = ForeignPlatform::new();
        let trust = foreign.trust();
        let mut envelope = foreign.envelope("I33-1", &foreign_party("Buyer", "buyer-1"), &[]);
        let answer = |envelope: &Value| {
            verify_envelope(&serde_json::to_vec(envelope).expect("json"), &trust)
                .expect_err("refused")
        };
        envelope["envelopeTransferChain"][1] =
            signed_raw(&foreign.platform, b"not json at all").into();
        let failure = answer(&envelope);
        assert_eq!(failure.code, PintCode::BadEnvelope, "{failure}");
        assert!(failure.reason.contains("not JSON"), "{failure}");
        envelope["envelopeTransferChain"][1] =
            signed_raw(&ebl_core::testkit::key(5), b"not json at all").into();
        assert_eq!(answer(&envelope).code, PintCode::BadSignature);
    }

    fn payload(jws: &str) -> Value {
        let part = jws.split('.').nth(1).expect("payload");
        serde_json::from_slice(&ebl_pint::base64url_decode(part).expect("b64")).expect("json")
    }

    /// A bill that arrived with the carrier's visualisation and a supporting document was sent on with
    /// the visualisation as a supporting document and every media type `application/octet-stream`; the
    /// spec requires `eBLVisualisationByCarrier` to travel unchanged, and media types to stay.
    #[test]
    fn regression_a_bill_sent_on_keeps_the_carriers_visualisation_and_its_media_types() {
        use ebl_core::testkit::Cast;
        use ebl_core::{Ledger, Signatures};
        const HERE: &str = "EBLT";
        let cast = Cast::new();
        let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
        let chain = genesis.chain_id();
        let mut ledger = Ledger::new(genesis);
        for tx in cast.registrations(chain) {
            ledger.apply(&tx, Signatures::Verify).expect("register");
        }
        // A foreign envelope to the buyer here, its manifest re-signed with the carrier's
        // visualisation beside the supporting document.
        let mut foreign = ForeignPlatform::new();
        let buyer = serde_json::json!({
            "partyName": "Buyer One",
            "eblPlatform": HERE,
            "identifyingCodes": [{ "codeListProvider": HERE, "partyCode": cast.buyer.id.to_hex() }],
        });
        let mut envelope = foreign.envelope("I33-DOCS", &buyer, &[b"invoice bytes"]);
        let visualisation = serde_json::json!({
            "name": "bill.pdf",
            "size": 9,
            "mediaType": "application/pdf",
            "documentChecksum": ebl_core::Hash::of(b"the bill").to_hex(),
        });
        let mut manifest = payload(
            envelope["envelopeManifestSignedContent"]
                .as_str()
                .expect("m"),
        );
        manifest["eBLVisualisationByCarrier"] = visualisation.clone();
        envelope["envelopeManifestSignedContent"] =
            ebl_pint::sign_jws(&foreign.platform, &manifest).into();
        let text = ebl_core::jcs::canonicalize(&envelope).expect("canonical");
        let verdict = verify_envelope(text.as_bytes(), &foreign.trust()).expect("received");
        let transfer = ebl_pint::Transfer::new(verdict, text);
        let ebl_pint::Placement::New(action) =
            ebl_pint::import_action(&ledger, HERE, &transfer).expect("placed")
        else {
            panic!("not a new bill")
        };
        let import =
            ebl_core::testkit::signed(chain, ebl_core::Hash::ZERO, 5, *action, &[&cast.node]);
        ledger.apply(&import, Signatures::Verify).expect("imported");
        let document = ebl_core::testkit::to_order_document("I33-DOCS").expect("document");
        let history = [ebl_pint::Exported {
            transaction: &import,
            time_ms: 5,
        }];
        let sent =
            ebl_pint::export_envelope(&document, &history, ledger.registry(), HERE, &cast.node);
        let ours = payload(
            sent["envelopeManifestSignedContent"]
                .as_str()
                .expect("manifest"),
        );
        assert_eq!(ours["eBLVisualisationByCarrier"], visualisation, "{ours}");
        let supporting = ours["supportingDocuments"].as_array().expect("documents");
        assert_eq!(
            supporting.len(),
            1,
            "the visualisation is not a supporting document: {ours}"
        );
        assert_eq!(supporting[0]["mediaType"], "application/pdf");
        assert_eq!(supporting[0]["name"], "document-0.pdf");
    }
}

// ---------------------------------------------------------------------------------------------------
// A platform signing with an X.509 chain (`CertifiedKey`), as DCSA's Conformance-Gateway verifies senders.

#[test]
fn a_platform_signing_with_an_x509_chain_is_verified_from_its_ca() {
    {
        let alg = "ES256";
        let (key_pem, chain_pem, ca_pem) = certified_platform_key();
        let signer = ebl_pint::CertifiedKey::from_pem(key_pem.as_bytes(), chain_pem.as_bytes())
            .expect("a certified key");
        let jws = ebl_pint::sign_jws(&signer, &serde_json::json!({"hello": "gateway"}));
        let header: Value = serde_json::from_slice(
            &base64url_decode(jws.split('.').next().expect("header")).expect("b64"),
        )
        .expect("json");
        assert_eq!(header["alg"], alg);
        assert_eq!(header["x5c"].as_array().map(Vec::len), Some(2), "{header}");
        // A receiver that trusts only the CA verifies it from the chain the JWS carries.
        let mut trust = TrustStore::default();
        trust
            .add_pem(ca_pem.as_bytes(), &Binding::platform("EBL"))
            .expect("CA trusted");
        let trust = trust.at_time(NOW_MS);
        let payload =
            ebl_pint::verified_jws(&jws, &trust, &Binding::platform("EBL")).expect("verified");
        assert_eq!(payload["hello"], "gateway");
        // Another platform's CA does not vouch for it.
        let (_, _, other_ca) = certified_platform_key();
        let mut stranger = TrustStore::default();
        stranger
            .add_pem(other_ca.as_bytes(), &Binding::platform("EBL"))
            .expect("trusted");
        assert!(
            ebl_pint::verified_jws(&jws, &stranger.at_time(NOW_MS), &Binding::platform("EBL"))
                .is_err()
        );
    }
}

#[test]
fn a_certified_key_whose_certificate_is_another_keys_is_refused() {
    let (_, chain_pem, _) = certified_platform_key();
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let refused =
        ebl_pint::CertifiedKey::from_pem(other.serialize_pem().as_bytes(), chain_pem.as_bytes())
            .expect_err("the certificate is not this key's");
    assert_eq!(refused.code(), "key_certificate_mismatch");
    // An RSA key, with its own certificate: named and refused (the rsa crate's private-key operations
    // are not constant-time, RUSTSEC-2023-0071).
    let rsa_pem = include_str!("fixtures/keys/rsa-platform-test.private.pem");
    let (_, rsa_chain, _) =
        certified_by_a_ca(rcgen::KeyPair::from_pem(rsa_pem).expect("the RSA test key"));
    let refused = ebl_pint::CertifiedKey::from_pem(rsa_pem.as_bytes(), rsa_chain.as_bytes())
        .expect_err("RSA is not used to sign");
    assert_eq!(refused.code(), "rsa_signing_key");
    let refused =
        ebl_pint::CertifiedKey::from_pem(b"not a key", chain_pem.as_bytes()).expect_err("no key");
    assert_eq!(refused.code(), "no_private_key");
}
