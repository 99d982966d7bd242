//! Issue 32: a bank's bundle carries the registry entries its bill relies on, each proven under the
//! root the member nodes signed, not every party the consortium ever admitted; and every way of cutting
//! that proof short or forging it is refused by name, with the real binaries.

use ebl_core::{Action, Hash, PartyKey, PartyProfile, Role, Roles, SigningKey};
use ebl_tests::{bin, run, Market};
use serde_json::Value;

/// The target's bundle size for a 50-event bill at 100 000 parties; a bill of a few events at 10 000
/// parties stays far below it.
const BUNDLE_BYTES_TARGET: usize = 100 * 1024;

/// Parties admitted per batch (the node's batch maximum is 1024).
const ADMITTED_PER_BATCH: usize = 1000;

/// Admits `count` traders by governance (the operator's signature), in batches, each registration
/// naming the one before as the registry head.
fn admit_many(m: &Market, count: usize) {
    let http = m.http();
    let (_, history) = http
        .get_as("/v1/registry/history", &m.operator)
        .expect("registry history");
    let mut prev: Hash = history
        .as_array()
        .and_then(|h| h.last())
        .and_then(|e| e["receipt"]["tx"].as_str())
        .and_then(|t| t.parse().ok())
        .unwrap_or(m.chain);
    let mut admitted = 0;
    while admitted < count {
        let batch: Vec<_> = (admitted..count.min(admitted + ADMITTED_PER_BATCH))
            .map(|i| {
                let seed = Hash::of(format!("admitted party {i}").as_bytes());
                let key = PartyKey::of(&SigningKey::from_bytes(seed.as_bytes()));
                let tx = ebl_core::testkit::signed(
                    m.chain,
                    prev,
                    ebl_tests::now_ms(),
                    Action::RegisterParty {
                        key,
                        profile: PartyProfile {
                            name: format!("Admitted Trader {i}"),
                            roles: Roles::single(Role::Trader),
                            identifiers: Vec::new(),
                        },
                    },
                    &[&m.operator],
                );
                prev = tx.id();
                tx
            })
            .collect();
        let outcomes = http.batch(&batch).expect("sent").expect("batch taken");
        let refused = outcomes
            .iter()
            .find(|o| !matches!(o, ebl_core::api::SubmitOutcome::Accepted { .. }));
        assert!(refused.is_none(), "{refused:?}");
        admitted += batch.len();
    }
}

/// The buyer's bundle of `bill`, exported by the real wallet with its key `key`: its bytes and JSON.
fn exported(m: &Market, bill: &str, name: &str, key: &str) -> (usize, Value) {
    let file = m.path(name);
    m.json(
        "buyer1",
        &["bill", "export", bill, "-o", &file, "--as", key],
    );
    let bytes = std::fs::read(&file).expect("bundle");
    let json = serde_json::from_slice(&bytes).expect("json");
    (bytes.len(), json)
}

/// A bank's offline check of `bundle`: `Ok` with the verdict, or the refusal's code.
fn verified(m: &Market, bundle: &Value, name: &str) -> Result<Value, String> {
    let file = m.path(name);
    std::fs::write(&file, bundle.to_string()).expect("write");
    let home = m.home("offline-bank").to_string_lossy().into_owned();
    let checked = run(
        &bin("ebl"),
        &["--json", "verify", &file, "--chain", &m.chain.to_hex()],
        &[("EBL_HOME", &home), ("EBL_NODE", "http://127.0.0.1:9")],
    );
    if checked.code == 0 {
        Ok(checked.json())
    } else {
        Err(checked.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }
}

#[test]
fn regression_a_bundle_carries_every_party_ever_admitted() {
    // Measured before the fix (release b0079ae's layout, issue 32's table): about 2 KB for every party
    // admitted, 833 788 bytes at 400; at 10 000 about 20 MB.
    let m = Market::with_cast();
    let bill = m.issue("PROOF-SIZE-1");
    m.sell("shipper", &bill, "Buyer One");
    let (before, small) = exported(&m, &bill, "before.json", "buyer1");
    admit_many(&m, 10_000);
    let (after, bundle) = exported(&m, &bill, "after.json", "buyer1");
    assert_eq!(bundle["format"], "ebl-bundle/4");
    let entries = bundle["registry"].as_array().expect("registry").len();
    assert!(
        entries <= small["registry"].as_array().expect("registry").len(),
        "the bundle carries {entries} registry entries at 10 000 parties"
    );
    assert!(
        after <= BUNDLE_BYTES_TARGET,
        "{after} bytes at 10 000 parties"
    );
    // Only the proofs' paths grow, logarithmically: from 7 parties to 10 007, a few hundred bytes per
    // proven party, not 20 MB.
    assert!(
        after < before + 8 * 1024,
        "{before} bytes at 7 parties, {after} at 10 007"
    );
    let verdict = verified(&m, &bundle, "after-check.json").expect("the bundle verifies");
    assert_eq!(verdict["valid"], true, "{verdict}");
}

#[test]
fn a_registry_proof_cut_short_padded_forged_or_from_another_height_is_refused_by_name() {
    let m = Market::with_cast();
    let bill = m.issue("PROOF-FORGED-1");
    m.sell("shipper", &bill, "Buyer One");
    // The buyer's key line has a rotation after its last signature in the bill's chain: leaving it out
    // of the bundle would not break the replay of the bill, only the buyer's proven entry.
    m.json("buyer1", &["key", "new", "buyer1-2"]);
    m.json(
        "buyer1",
        &[
            "party",
            "rotate",
            "Buyer One",
            "--new-key",
            "buyer1-2",
            "--as",
            "buyer1",
        ],
    );
    let buyer = m.id("Buyer One");
    let (_, honest) = exported(&m, &bill, "honest.json", "buyer1-2");
    assert!(verified(&m, &honest, "honest-check.json").is_ok());
    let tampered = |name: &str, tamper: &dyn Fn(&mut Value)| -> String {
        let mut bundle = honest.clone();
        tamper(&mut bundle);
        verified(&m, &bundle, name).expect_err("refused")
    };
    let buyer_proof = |bundle: &mut Value| -> usize {
        bundle["registry_proofs"]["parties"]
            .as_array()
            .expect("parties")
            .iter()
            .position(|p| p["party"]["id"].as_str() == Some(buyer.as_str()))
            .expect("the buyer's entry is proven")
    };
    let path_of = |bundle: &mut Value, f: &dyn Fn(&mut Vec<Value>)| {
        let at = buyer_proof(bundle);
        f(bundle["registry_proofs"]["parties"][at]["proof"]["path"]
            .as_array_mut()
            .expect("path"));
    };
    assert_eq!(
        tampered("flipped.json", &|b| path_of(b, &|p| p[0] =
            Value::from(Hash::of(b"not a sibling").to_hex()))),
        "party_proof_mismatch"
    );
    assert_eq!(
        tampered("cut.json", &|b| path_of(b, &|p| {
            p.pop();
        })),
        "party_proof_mismatch"
    );
    assert_eq!(
        tampered("padded.json", &|b| path_of(b, &|p| p
            .push(Value::from(Hash::ZERO.to_hex())))),
        "party_proof_mismatch"
    );
    // The buyer's rotation left out: its key line replays one key short of its proven entry.
    assert_eq!(
        tampered("no-rotation.json", &|b| {
            b["registry"]
                .as_array_mut()
                .expect("registry")
                .retain(|e| e["transaction"]["body"]["action"]["ROTATE_KEY"].is_null());
        }),
        "party_history_mismatch"
    );
    // An entry the replay relies on, not proven: nothing is taken on its strength.
    assert_eq!(
        tampered("unproven.json", &|b| {
            let at = buyer_proof(b);
            b["registry_proofs"]["parties"]
                .as_array_mut()
                .expect("parties")
                .remove(at);
        }),
        "party_unproven"
    );
    // A party admitted since moves the registry's root: the buyer's entry, unchanged, proven under the
    // later root is a proof from another height, and does not lead to the root this statement's
    // signers committed to.
    m.admit("late", "Late Trader", "trader", &[]);
    let (_, later) = exported(&m, &bill, "later.json", "buyer1-2");
    let at_later = buyer_proof(&mut later.clone());
    assert_eq!(
        tampered("other-height.json", &|b| {
            let at = buyer_proof(b);
            b["registry_proofs"]["parties"][at] =
                later["registry_proofs"]["parties"][at_later].clone();
        }),
        "party_proof_mismatch"
    );
    // The consortium's entry forged (a threshold it never had) and a block's registry head forged: the
    // signatures of the member nodes cover neither.
    assert_eq!(
        tampered("consortium.json", &|b| {
            b["registry_proofs"]["consortium"]["consortium"]["threshold"] = Value::from(2);
        }),
        "consortium_proof_mismatch"
    );
    let head_forged = tampered("head-before.json", &|b| {
        b["registry_proofs"]["heads_before"][0]["head"] = Value::from(Hash::ZERO.to_hex());
    });
    assert!(
        head_forged == "not_final" || head_forged == "bad_signature",
        "{head_forged}"
    );
}

/// `BUNDLE_ENTRIES_MAX` at its boundary: a bundle proving exactly that many registry entries (the
/// consortium's and the parties', padded with repeats of a real proof, which the verifier does not
/// rely on) verifies; one more, or one head before a block too many, is refused by name before anything
/// is replayed.
#[test]
fn a_bundle_proving_more_registry_entries_than_the_limit_is_refused_at_the_boundary() {
    use ebl_core::limits::BUNDLE_ENTRIES_MAX;
    let m = Market::with_cast();
    let bill = m.issue("PROOF-LIMIT-1");
    m.sell("shipper", &bill, "Buyer One");
    let (_, honest) = exported(&m, &bill, "limit-honest.json", "buyer1");
    let padded = |parties: usize, heads: usize| -> Value {
        let mut bundle = honest.clone();
        let proofs = &mut bundle["registry_proofs"];
        for (list, to) in [("parties", parties), ("heads_before", heads)] {
            let items = proofs[list].as_array_mut().expect("list");
            let last = items.last().expect("one proven entry").clone();
            items.resize(to.max(items.len()), last);
        }
        bundle
    };
    // The parties' proofs with the consortium's: BUNDLE_ENTRIES_MAX entries in all.
    let at_limit = padded(BUNDLE_ENTRIES_MAX - 1, 0);
    let verdict = verified(&m, &at_limit, "limit-at.json").expect("at the limit, verified");
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(
        verified(&m, &padded(BUNDLE_ENTRIES_MAX, 0), "limit-over.json"),
        Err("too_many_registry_proofs".to_owned())
    );
    assert_eq!(
        verified(&m, &padded(0, BUNDLE_ENTRIES_MAX + 1), "limit-heads.json"),
        Err("too_many_registry_proofs".to_owned())
    );
}
