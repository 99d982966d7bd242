//! Real ledgers written by builds before a format change, each moved to the next chain format by
//! governance while its bills trade, with this release's binaries: format 4 (build d2df967) to 5,
//! format 5 (build 8e0a97b) to 6, format 6 (commit 048de3a) to 7, and format 7 (commit 929a1b4) to 8
//! (`tests/fixtures/ledgers/README.md` says where they come from). The change is a registry entry the admins sign; blocks below its
//! height keep the old format and blocks from it are written in the new one; the node's store verifies
//! across the boundary, and a bank's bundle spanning both formats verifies offline, while one that
//! leaves out a registry entry does not.

use ebl_tests::ledgers::OldLedger;
use ebl_tests::NodeProcess;
use serde_json::Value;

/// The node's head height, as `/v1/head` gives it.
fn height(old: &OldLedger) -> u64 {
    let chain: ebl_core::Hash = old.chain().parse().expect("chain id");
    let (status, head) = ebl_tests::Http::new(&old.node_url, chain)
        .get("/v1/head")
        .expect("head");
    assert_eq!(status, 200, "{head}");
    head["height"].as_u64().expect("height")
}

/// `ebl verify` of `bundle` offline, by a bank with a fresh wallet that trusts the old chain.
fn verify_offline(old: &OldLedger, bundle: &Value, name: &str) -> Value {
    let path = old.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec(bundle).expect("json")).expect("write");
    old.verify_offline(&path.to_string_lossy()).json()
}

/// The bundle without its last registry entry of action `code`.
fn without_registry_entry(bundle: &Value, code: &str) -> Value {
    let mut cut = bundle.clone();
    let entries = cut["registry"].as_array_mut().expect("registry entries");
    let last = entries
        .iter()
        .rposition(|e| e["transaction"]["body"]["action"].get(code).is_some())
        .expect("an entry of that action");
    entries.remove(last);
    cut
}

/// The ledger of build d2df967, of format 4 on store layout 2, so that the first real format change is
/// the one tested (the promise: docs/upgrading.md).
#[test]
fn the_v4_ledger_moves_to_format_5_by_governance_and_its_bills_trade_across_the_boundary() {
    moves_to_its_next_format("v4-d2df967");
}

/// The ledger of build 8e0a97b, of format 5, before format 6 (the finality quorum).
#[test]
fn the_v5_ledger_moves_to_format_6_by_governance_and_its_bills_trade_across_the_boundary() {
    moves_to_its_next_format("v5-8e0a97b");
}

/// The ledger of commit 048de3a, of format 6, before format 7 (statements vouched for by the finality
/// quorum): its bundles carry one node's statement (`ebl-bundle/2`) and still verify; the bundle made
/// across the boundary carries the statement bound to the registry (`ebl-bundle/3`).
#[test]
fn the_v6_ledger_moves_to_format_7_by_governance_and_its_bills_trade_across_the_boundary() {
    moves_to_its_next_format("v6-048de3a");
}

/// The ledger of commit 929a1b4, of format 7, before format 8 (the registry committed to one root):
/// its bundles carry the whole registry (`ebl-bundle/3`) and still verify; the bundle made across the
/// boundary carries only the entries its bill relies on, proven (`ebl-bundle/4`).
#[test]
fn the_v7_ledger_moves_to_format_8_by_governance_and_its_bills_trade_across_the_boundary() {
    moves_to_its_next_format("v7-929a1b4");
}

/// Opens the ledger `fixture` with this release, moves it to the next chain format by governance while
/// its bills trade, and checks both sides of the boundary.
fn moves_to_its_next_format(fixture: &str) {
    // The old ledger's own bundles verify as they did before anything moves.
    let mut old = OldLedger::unpack(fixture);
    let format =
        u16::try_from(old.manifest["format_version"].as_u64().expect("format")).expect("a format");
    let next = format + 1;
    for bundle in ["files/pledged.bundle.json", "files/delivered.bundle.json"] {
        let written: Value =
            serde_json::from_slice(&std::fs::read(old.file(bundle)).expect("bundle"))
                .expect("json");
        let verified = verify_offline(&old, &written, "as-written.bundle.json");
        assert_eq!(verified["valid"], true, "{bundle}: {verified}");
        assert_eq!(verified["verdict"]["chain_format"], format, "{bundle}");
    }
    let mut node = NodeProcess::stopped(&old.data(), "127.0.0.1:0");
    node.start();
    old.node_url = node.url.clone();
    let head = height(&old);
    assert_eq!(Some(head), old.manifest["head"]["height"].as_u64());

    // What cannot be scheduled is refused by name, and nothing is written.
    let schedule = |format: u16, at: u64| {
        vec![
            "gov".to_owned(),
            "schedule-format".to_owned(),
            format.to_string(),
            "--height".to_owned(),
            at.to_string(),
            "--as".to_owned(),
            "operator".to_owned(),
        ]
    };
    let refusals = [
        (
            schedule(ebl_core::format::FORMAT_VERSION + 1, head + 10),
            "format_unknown",
        ),
        (schedule(format, head + 10), "format_not_next"),
        (schedule(next, head + 1), "format_height_past"),
    ];
    for (args, code) in &refusals {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        old.refused("op", &args, code);
    }
    assert_eq!(height(&old), head, "refusals change nothing");

    // The operator (the one admin of this one-member chain) schedules the next format three blocks
    // ahead.
    let from = head + 4;
    let args = schedule(next, from);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let scheduled = old.json("op", &args);
    assert_eq!(scheduled["status"], "accepted", "{scheduled}");
    let members = old.json("op", &["gov", "members"]);
    assert_eq!(members["formats"]["genesis"], format, "{members}");
    assert_eq!(
        members["formats"]["activations"],
        serde_json::json!([{"format": next, "height": from}]),
        "{members}"
    );

    // The old format's last blocks: a bill issued, the old pledge released.
    let bill = old.issue("ACROSS-FORMATS-1");
    let pledged = old.bill("pledged");
    old.json("bank1", &["bill", "release", &pledged, "--as", "bank1"]);
    assert_eq!(height(&old), from - 1, "the last block of the old format");

    // The next format from here: the bill is sold, a party is admitted, and the buyer signs it.
    old.sell_to_buyer_one(&bill);
    let newcomer = old.json("op", &["key", "new", "newcomer"])["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    old.json(
        "op",
        &[
            "party",
            "register",
            "Newcomer Trading",
            "--key",
            &newcomer,
            "--role",
            "trader",
            "--as",
            "operator",
        ],
    );
    old.json("buyer", &["bill", "sign", &bill, "--as", "buyer-2"]);
    assert_eq!(height(&old), from + 3);

    // The buyer's bundle spans both formats: valid offline.
    let exported = old.dir.path().join("across.bundle.json");
    let exported = exported.to_string_lossy().into_owned();
    old.json(
        "buyer",
        &["bill", "export", &bill, "-o", &exported, "--as", "buyer-2"],
    );
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(&exported).expect("bundle")).expect("json");
    let verified = verify_offline(&old, &bundle, "honest.bundle.json");
    assert_eq!(verified["valid"], true, "{verified}");
    assert_eq!(verified["verdict"]["chain_format"], format, "{verified}");
    assert_eq!(
        verified["verdict"]["format_changes"],
        serde_json::json!([{"format": next, "height": from}]),
        "the bank is told from which block the chain is in the next format"
    );

    if next >= ebl_core::format::FORMAT_REGISTRY_COMMITTED {
        // From format 8 the bundle carries the consortium's changes and the entries its bill relies
        // on, proven under the root the statement's signers committed to (the newcomer's admission is
        // not among them). Leave out the format change: the consortium no longer replays to its
        // proven entry.
        assert_eq!(bundle["format"], "ebl-bundle/4");
        let cut = verify_offline(
            &old,
            &without_registry_entry(&bundle, "SCHEDULE_FORMAT"),
            "no-schedule.bundle.json",
        );
        assert_eq!(cut["error"]["code"], "consortium_history_mismatch", "{cut}");
        let admitted = bundle["registry"]
            .as_array()
            .expect("registry")
            .iter()
            .filter(|e| e["transaction"]["body"]["action"]["REGISTER_PARTY"].is_object())
            .count();
        assert!(
            admitted < 6,
            "only the parties the bill relies on are carried: {admitted}"
        );
        // Leave out the admission of a party the bill names: nothing is taken on the strength of an
        // entry the bundle does not carry.
        let cut = verify_offline(
            &old,
            &without_registry_entry(&bundle, "REGISTER_PARTY"),
            "no-admission.bundle.json",
        );
        assert_eq!(cut["error"]["code"], "unknown_party", "refused: {cut}");
    } else {
        moves_bound_registry_checks(&old, &bundle);
    }

    // Stopped gracefully, the store verifies across the boundary, and opens again at its height.
    assert_eq!(node.terminate(), 0);
    let verified = node.verify().ok().json();
    assert_eq!(verified["verdict"], "ok", "{verified}");
    assert_eq!(verified["report"]["blocks"], from + 3, "{verified}");
    node.start();
    old.node_url = node.url.clone();
    assert_eq!(height(&old), from + 3);
    let members = old.json("op", &["gov", "members", "--as", "operator"]);
    assert_eq!(members["formats"]["activations"][0]["height"], from);
}

/// Before format 8: a bundle carries the whole registry, hash-linked, and each block's signatures name
/// the registry head before it.
fn moves_bound_registry_checks(old: &OldLedger, bundle: &Value) {
    // Leave out the format change: the registry's hash links break at the entry after it.
    let cut = verify_offline(
        old,
        &without_registry_entry(bundle, "SCHEDULE_FORMAT"),
        "no-schedule.bundle.json",
    );
    assert_eq!(cut["error"]["code"], "stale_head", "{cut}");
    // Leave out the last registry change (the admission): before format 5 such a bundle verified
    // (finding 5 of the attack review); now the next block's signatures name the registry it left.
    let cut = verify_offline(
        old,
        &without_registry_entry(bundle, "REGISTER_PARTY"),
        "no-admission.bundle.json",
    );
    assert_eq!(
        cut["error"]["code"], "bad_signature",
        "refused for the signatures bound to the registry: {cut}"
    );
}
