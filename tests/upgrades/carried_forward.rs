//! The ledger release b0079ae wrote (format 4: `tests/fixtures/ledgers/v4-b0079ae.tar.gz`), opened by
//! this release's `ebl-node` and every bill on it carried on by its parties' old wallets with this
//! release's `ebl`: the bank releases its pledge, the in-transit bill is refused back, the carrier accepts
//! the pending surrender, the split parts trade, new bills are issued; the bank's old bundles and the
//! pledge offers verify offline as they did.

use ebl_tests::ledgers::OldLedger;
use ebl_tests::{bin, now_ms, run, NodeProcess};
use serde_json::Value;

fn status_name(bill: &Value) -> String {
    match &bill["status"] {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}

/// A bank with a fresh wallet and no node verifies `file` offline against the chain it trusts.
fn bank_verifies_offline(old: &OldLedger, file: &str) -> Value {
    old.verify_offline(file).ok().json()
}

#[test]
fn the_v4_ledger_of_release_b0079ae_is_verified_and_carried_on() {
    let mut old = OldLedger::unpack("v4-b0079ae");
    assert_eq!(old.manifest["format_version"], 4);

    // The bank's bundles from the old release verify offline, and say which format they are in.
    for bundle in [
        "files/pledged.bundle.json",
        "files/delivered.bundle.json",
        "files/split.bundle.json",
    ] {
        let verified = bank_verifies_offline(&old, &old.file(bundle));
        assert_eq!(verified["valid"], true, "{bundle}: {verified}");
        assert_eq!(verified["verdict"]["format"], "ebl-bundle/2", "{bundle}");
        assert_eq!(verified["verdict"]["chain_format"], 4, "{bundle}");
    }
    let pledged = bank_verifies_offline(&old, &old.file("files/pledged.bundle.json"));
    assert_eq!(pledged["verdict"]["bill"]["id"], old.bill("pledged"));
    assert_eq!(status_name(&pledged["verdict"]["bill"]), "pledged");

    // The stopped node's data directory verifies, then serves.
    let mut node = NodeProcess::stopped(&old.data(), "127.0.0.1:0");
    let verified = node.verify().ok().json();
    assert_eq!(verified["verdict"], "ok", "{verified}");
    assert_eq!(verified["report"]["blocks"], 31, "{verified}");
    node.start();
    old.node_url = node.url.clone();
    let head = old.json("bank1", &["chain", "show"]);
    assert_eq!(head["chain"], old.chain());

    // The bank releases its pledge; the holder has it free again.
    let bill = old.bill("pledged");
    old.json("bank1", &["bill", "release", &bill, "--as", "bank1"]);
    assert_eq!(
        status_name(&old.json("buyer", &["bill", "show", &bill, "--as", "buyer-2"])["bill"]),
        "issued"
    );

    // The bill in transit is refused back by its recipient, with the key it rotated to.
    let bill = old.bill("in_transit");
    old.json("buyer", &["bill", "refuse", &bill, "--as", "buyer-2"]);
    // The old key signs nothing more.
    old.refused(
        "buyer",
        &["bill", "sign", &bill, "--as", "buyer"],
        "rotated_key",
    );

    // The carrier accepts the surrender the old release left pending.
    let bill = old.bill("surrender_pending");
    old.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    assert_eq!(
        status_name(&old.json("carrier", &["bill", "show", &bill, "--as", "carrier"])["bill"]),
        "accomplished"
    );

    // The split's two replacements trade.
    for part in ["split_part_1", "split_part_2"] {
        old.sell_to_buyer_one(&old.bill(part));
    }

    // The open offer to the second bank verifies as it was written; the holder rotated its key after
    // signing it, so the ledger refuses the pledge it carries (or, past the 30 days the old release
    // made it valid for, refuses it as expired). The holder offers again with its new key, and the
    // bank takes that.
    let offer = old.file("files/open.offer.json");
    let review = old.json("bank2", &["bill", "pledge-review", &offer, "--as", "bank2"]);
    let valid_until = review["valid_until_ms"].as_u64().expect("valid until");
    let refusal = if now_ms() < valid_until {
        "rotated_key"
    } else {
        "expired"
    };
    old.refused(
        "bank2",
        &["bill", "pledge-accept", &offer, "--as", "bank2"],
        refusal,
    );
    let again = old.dir.path().join("offered-again.offer.json");
    let again = again.to_string_lossy().into_owned();
    old.json(
        "buyer",
        &[
            "bill",
            "pledge",
            &old.bill("offered"),
            "--bank",
            "Second Bank",
            "--amount",
            "750000.00",
            "--loan",
            "L-AFTER-UPGRADE",
            "-o",
            &again,
            "--as",
            "buyer-2",
        ],
    );
    let taken = old.json("bank2", &["bill", "pledge-accept", &again, "--as", "bank2"]);
    assert_eq!(taken["status"], "accepted", "{taken}");
    // The offer of the bill already pledged is stale: it moved since (the release above).
    let stale = old.json(
        "bank1",
        &[
            "bill",
            "pledge-review",
            &old.file("files/pledged.offer.json"),
            "--as",
            "bank1",
        ],
    );
    assert_eq!(stale["fresh"], false, "{stale}");

    // New bills are issued on the old chain, and sold.
    let new_bill = old.issue("AFTER-UPGRADE-1");
    old.sell_to_buyer_one(&new_bill);

    // A bundle of today's release over the old history verifies beside the old one.
    let fresh = old.dir.path().join("pledged-now.bundle.json");
    let fresh = fresh.to_string_lossy().into_owned();
    old.json(
        "buyer",
        &[
            "bill",
            "export",
            &old.bill("pledged"),
            "-o",
            &fresh,
            "--as",
            "buyer-2",
        ],
    );
    let now = bank_verifies_offline(&old, &fresh);
    assert_eq!(now["valid"], true, "{now}");
    assert_eq!(status_name(&now["verdict"]["bill"]), "issued");

    // Stopped gracefully, the store verifies with the old blocks and the new ones.
    assert_eq!(node.terminate(), 0);
    let verified = node.verify().ok().json();
    assert_eq!(verified["verdict"], "ok", "{verified}");
    assert!(
        verified["report"]["blocks"].as_u64().expect("blocks") > 31,
        "{verified}"
    );
}

#[test]
fn regression_a_bundle_of_a_format_this_release_does_not_read_is_named_not_invalid() {
    // Measured before the fix: a bundle of chain format 3 was `INVALID at genesis: malformed encoding:
    // unsupported genesis version 3`, which a bank reads as a forgery.
    let old = OldLedger::unpack("v4-b0079ae");
    let original: Value = serde_json::from_slice(
        &std::fs::read(old.file("files/pledged.bundle.json")).expect("bundle"),
    )
    .expect("json");
    for (field, value, code) in [
        ("format", Value::from("ebl-bundle/1"), "format_too_old"),
        ("format", Value::from("ebl-bundle/5"), "format_too_new"),
        ("version", Value::from(3), "format_too_old"),
        ("version", Value::from(99), "format_too_new"),
    ] {
        let mut bundle = original.clone();
        if field == "format" {
            bundle["format"] = value;
        } else {
            bundle["genesis"]["version"] = value;
        }
        let path = old.dir.path().join(format!("{code}.bundle.json"));
        std::fs::write(&path, serde_json::to_vec(&bundle).expect("json")).expect("write");
        let run = old.verify_offline(&path.to_string_lossy());
        assert_eq!(
            run.code, 2,
            "a format refusal, not a failed verification: {}",
            run.stdout
        );
        assert_eq!(run.json()["error"]["code"], code, "{}", run.stdout);
        assert!(!run.stdout.contains("INVALID"), "{}", run.stdout);
    }
}

/// Rewrites the old store's genesis record as one of chain format `version`, sealed as a store seals it.
fn restamp_genesis(data: &std::path::Path, version: u16) -> Vec<(Vec<u8>, Vec<u8>)> {
    use ebl_store::Kv;
    let kv = ebl_store::SledKv::open(&data.join("store")).expect("open");
    let mut payload = kv.get(b"g").expect("read").expect("genesis");
    payload.truncate(payload.len() - 32);
    payload[..2].copy_from_slice(&version.to_le_bytes());
    let check = ebl_core::Hash::of_parts(&[b"g", &payload]);
    let mut sealed = payload;
    sealed.extend_from_slice(check.as_bytes());
    kv.apply(vec![(b"g".to_vec(), Some(sealed))])
        .expect("write");
    kv.sync().expect("sync");
    kv.scan(&[]).expect("entries")
}

fn entries(data: &std::path::Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    use ebl_store::Kv;
    ebl_store::SledKv::open(&data.join("store"))
        .expect("open")
        .scan(&[])
        .expect("entries")
}

#[test]
fn regression_a_store_of_a_format_this_release_does_not_read_is_named_not_corrupt_and_left_alone() {
    // Measured before the fix, on a format-3 store: `FAULT at genesis: stored genesis at key 67 is
    // corrupt: ... [storage_corrupt]`, and `ebl-node run` refused to start: a broken disk, to an
    // operator.
    // The newest format is the first this release does not know: 5 when this test was written.
    let newer = ebl_core::format::FORMAT_VERSION + 1;
    for (version, code) in [(3, "format_too_old"), (newer, "format_too_new")] {
        let old = OldLedger::unpack("v4-b0079ae");
        let before = restamp_genesis(&old.data(), version);
        let data = old.data().to_string_lossy().into_owned();
        let verify = run(&bin("ebl-node"), &["verify", "--data", &data], &[]);
        assert_eq!(verify.code, 5, "{verify:?}");
        assert!(verify.stdout.contains(&format!("[{code}]")), "{verify:?}");
        assert!(!verify.stdout.contains("FAULT"), "{verify:?}");
        assert!(!verify.stdout.contains("corrupt"), "{verify:?}");
        let verify = run(
            &bin("ebl-node"),
            &["verify", "--json", "--data", &data],
            &[],
        );
        assert_eq!(verify.json()["code"], code, "{verify:?}");
        let started = run(
            &bin("ebl-node"),
            &["run", "--listen", "127.0.0.1:0", "--data", &data],
            &[],
        );
        assert_eq!(started.code, 5, "{started:?}");
        assert!(started.stderr.contains(&format!("[{code}]")), "{started:?}");
        assert_eq!(
            entries(&old.data()),
            before,
            "nothing of the store was rewritten"
        );
    }
}

#[test]
fn a_wallets_pins_of_an_old_release_are_read_and_a_later_releases_are_refused_untouched() {
    let mut old = OldLedger::unpack("v4-b0079ae");
    // No node: the offline check needs none.
    old.node_url = "http://127.0.0.1:9".into();
    let pins = old.home("bank1").join("chains.json");
    let written: Value =
        serde_json::from_slice(&std::fs::read(&pins).expect("pins")).expect("json");
    assert!(
        written.get("format").is_none(),
        "b0079ae's file names no format"
    );
    // Read as it is: the chain it pins verifies the bank's bundle without --chain.
    let bundle = old.file("files/pledged.bundle.json");
    let verified = old.json("bank1", &["verify", &bundle]);
    assert_eq!(verified["valid"], true, "{verified}");
    // A later release's file is refused as such, and left as it was.
    let mut later = written.clone();
    later["format"] = "ebl-pins/2".into();
    let bytes = serde_json::to_vec_pretty(&later).expect("json");
    std::fs::write(&pins, &bytes).expect("write");
    old.refused("bank1", &["verify", &bundle], "format_too_new");
    assert_eq!(std::fs::read(&pins).expect("pins"), bytes, "untouched");
}
