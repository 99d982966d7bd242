//! Every command in a multi-party trade, with the `--json` shapes scripts rely on.

use ebl_node::DataDir;
use serde_json::Value;

use crate::support::{Trade, BUYER_LEI, PASSPHRASE};

#[test]
fn keys_are_encrypted_private_and_listed() {
    let t = Trade::new();
    let made = t.json("alice", &["key", "new", "alice"]);
    let public = made["public_key"].as_str().expect("public key").to_owned();
    assert_eq!(made["name"], "alice");
    let file = t.home("alice").join("keys").join("alice.json");
    let text = std::fs::read_to_string(&file).expect("key file");
    assert!(text.contains("argon2id") && text.contains("ciphertext"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let listed = t.json("alice", &["key", "list"]);
    assert_eq!(listed["keys"][0]["name"], "alice");
    assert_eq!(listed["keys"][0]["public_key"], public.as_str());
    assert_eq!(
        t.ebl("alice", &["key", "show", "alice"]).ok().stdout.trim(),
        public
    );
    // Making it again refuses, and leaves the key as it was.
    let again = t.ebl("alice", &["key", "new", "alice"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"));
    assert_eq!(std::fs::read_to_string(&file).expect("key file"), text);
    let _ = PASSPHRASE;
}

#[test]
fn a_whole_trade_through_every_command() {
    let t = Trade::with_cast();
    // Parties, by name and by key.
    let parties = t.json("buyer1", &["party", "list"]);
    // The cast's parties: the one member's admin (the operator) governs, and is no party.
    assert_eq!(
        parties.as_array().map(Vec::len),
        Some(ebl_tests::CAST.len())
    );
    let bank = t.json("buyer1", &["party", "show", "First Bank"]);
    assert_eq!(bank["profile"]["roles"][0], "bank");
    let by_key = t.json(
        "buyer1",
        &["party", "show", bank["key"].as_str().expect("key")],
    );
    assert_eq!(by_key["id"], bank["id"]);

    // Document check.
    let doc = t.document("CLI-1");
    let checked = t.json("carrier", &["doc", "check", &doc]);
    assert_eq!(
        (
            checked["valid"].as_bool(),
            checked["facts"]["transportDocumentReference"].as_str()
        ),
        (Some(true), Some("CLI-1"))
    );
    assert_eq!(checked["checksum"].as_str().map(str::len), Some(64));

    // Issue, endorse to order, transfer.
    let issued = t.json(
        "carrier",
        &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"],
    );
    assert_eq!(issued["status"], "accepted");
    let bill = issued["bill"].as_str().expect("bill").to_owned();
    assert!(issued["receipt"]["height"].as_u64().is_some());
    let endorsed = t.json(
        "shipper",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--to-order",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(endorsed["status"], "accepted");
    t.json(
        "shipper",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    t.json("buyer1", &["bill", "sign", &bill, "--as", "buyer1"]);

    // Pledge: the buyer offers, the bank reviews (full chain shown) and accepts.
    let offer = t.path("offer.json");
    let offered = t.json(
        "buyer1",
        &[
            "bill",
            "pledge",
            &bill,
            "--bank",
            "First Bank",
            "--amount",
            "250000.50",
            "--currency",
            "usd",
            "--loan",
            "L-77",
            "-o",
            &offer,
            "--as",
            "buyer1",
        ],
    );
    assert_eq!(offered["bill"], bill.as_str());
    let review = t
        .ebl("bank", &["bill", "pledge-review", &offer, "--as", "bank"])
        .ok();
    assert!(
        review.stdout.contains("VALID") && review.stdout.contains("250,000.50 USD"),
        "{}",
        review.stdout
    );
    let accepted = t.json("bank", &["bill", "pledge-accept", &offer, "--as", "bank"]);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(
        accepted["review"]["verdict"]["bill"]["possessor"],
        t.json("buyer1", &["party", "show", "Buyer One"])["id"]
    );

    // The worklists: the bank and the buyer see the bill, the second buyer does not.
    let listed = t.json("bank", &["bill", "list", "--as", "bank"]);
    assert_eq!(listed[0]["id"], bill.as_str());
    assert_eq!(
        t.json("buyer2", &["bill", "list", "--as", "buyer2"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let table = t
        .ebl("buyer1", &["bill", "list", "--as", "buyer1"])
        .ok()
        .stdout;
    assert!(
        table.contains("CLI-1") && table.contains("PLEDGED"),
        "{table}"
    );
    // Issue 14: rows were 161 characters wide. A header, and every row within 100 columns, with the
    // id's first 12 digits (a name for the bill wherever a command takes one).
    assert!(table.starts_with("REFERENCE"), "{table}");
    assert!(
        table.contains(&bill[..12]) && !table.contains(&bill[..13]),
        "{table}"
    );
    for line in table.lines() {
        assert!(ebl_cli::lang::display_width(line) <= 100, "{line}");
    }

    // Show, status, history.
    let shown = t.json("bank", &["bill", "show", &bill, "--as", "bank"]);
    assert_eq!(
        shown["bill"]["status"]["pledged"]["loan"]["amount_minor"],
        25_000_050
    );
    assert_eq!(shown["document"]["transportDocumentReference"], "CLI-1");
    let status = t.json("buyer1", &["bill", "status", &bill, "--as", "buyer1"]);
    // Chain format 7: the one member's node is the whole finality quorum, so one signature vouches.
    assert!(
        status["statement"]["height"].as_u64().is_some()
            && status["signatures"][0]["signature"].is_string(),
        "{status}"
    );
    let status_text = t
        .ebl("buyer1", &["bill", "status", &bill, "--as", "buyer1"])
        .ok()
        .stdout;
    assert!(
        status_text.contains("PLEDGED to First Bank by Buyer One"),
        "{status_text}"
    );
    let history = t
        .ebl("buyer1", &["bill", "history", &bill, "--as", "buyer1"])
        .ok()
        .stdout;
    for line in [
        "Issued",
        "Endorsed to order",
        "Transferred",
        "Signed for possession",
        "Pledged",
        "Buyer One pledged it to First Bank",
    ] {
        assert!(history.contains(line), "{line} missing from:\n{history}");
    }

    // Release, then the buyer sells on: blank endorsement and transfer to a bearer, who surrenders.
    t.json("bank", &["bill", "release", &bill, "--as", "bank"]);
    t.json(
        "buyer1",
        &["bill", "endorse", &bill, "--blank", "--as", "buyer1"],
    );
    t.json(
        "buyer1",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "buyer1",
        ],
    );
    t.json("buyer2", &["bill", "surrender", &bill, "--as", "buyer2"]);
    t.json(
        "carrier",
        &["bill", "reject-surrender", &bill, "--as", "carrier"],
    );
    t.json("buyer2", &["bill", "surrender", &bill, "--as", "buyer2"]);
    t.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    // Issue 14: the history mixed DCSA codes (SACC, SREJ) into its words, and its JSON was the raw
    // transactions with no names. The words say it; the JSON keeps the codes and adds the names.
    let history = t
        .ebl("buyer2", &["bill", "history", &bill, "--as", "buyer2"])
        .ok()
        .stdout;
    for words in [
        "Surrender rejected",
        "Surrender accepted",
        "Endorsed in blank",
    ] {
        assert!(history.contains(words), "{words} missing from:\n{history}");
    }
    for code in ["SACC", "SREJ", "BLANK_ENDORSE", "SURRENDER_FOR_DELIVERY"] {
        assert!(!history.contains(code), "{code} in:\n{history}");
    }
    assert!(
        history.lines().all(|l| l.chars().count() <= 160),
        "{history}"
    );
    let entries = t.json("buyer2", &["bill", "history", &bill, "--as", "buyer2"]);
    let entries = entries.as_array().expect("entries");
    assert_eq!(entries.len(), 12);
    let last = &entries[11];
    assert_eq!(
        (&last["index"], &last["action"], &last["signers"][0]["name"],),
        (&12.into(), &"SACC".into(), &"Mediterranean Shipping".into()),
        "{last}"
    );
    assert_eq!(
        last["description"], "Mediterranean Shipping accepted the surrender",
        "{last}"
    );
    assert!(last["transaction"]["signatures"].is_array() && last["receipt"]["height"].is_u64());

    // Export and verify offline, after the node is gone.
    let bundle = t.path("bundle.json");
    let exported = t.json(
        "buyer2",
        &["bill", "export", &bill, "-o", &bundle, "--as", "buyer2"],
    );
    assert_eq!(exported["transactions"], 12);
    let chain = t.json("buyer2", &["chain", "show"])["chain"]
        .as_str()
        .expect("chain id")
        .to_owned();
    let Trade { wallets, node } = t;
    drop(node);
    // A verifier who never met the node names the chain it trusts.
    let verified = crate::support::ebl_at(
        &wallets.dir.path().join("auditor"),
        "http://127.0.0.1:9",
        &["--json", "verify", &bundle, "--chain", &chain],
    )
    .ok()
    .json();
    assert_eq!(verified["valid"], true);
    assert_eq!(verified["verdict"]["bill"]["status"], "accomplished");
}

#[test]
fn enforcement_amendment_and_key_rotation() {
    let t = Trade::with_cast();
    let bill = t.issue("CLI-2");
    let offer = t.path("offer2.json");
    t.json(
        "shipper",
        &[
            "bill",
            "pledge",
            &bill,
            "--bank",
            "First Bank",
            "--amount",
            "10",
            "--loan",
            "L-1",
            "-o",
            &offer,
            "--as",
            "shipper",
        ],
    );
    t.json("bank", &["bill", "pledge-accept", &offer, "--as", "bank"]);
    t.json("bank", &["bill", "enforce", &bill, "--as", "bank"]);
    let shown = t.json("bank", &["bill", "show", &bill, "--as", "bank"]);
    assert_eq!(
        shown["bill"]["title"]["order"]["endorsee"],
        shown["bill"]["possessor"]
    );
    // The bank sells by endorsement; the buyer surrenders for amendment and the carrier reissues.
    t.json(
        "bank",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "bank",
        ],
    );
    t.json(
        "bank",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "bank",
        ],
    );
    // The buyer's key is rotated mid-life: the old key stops working, the new one signs for the buyer.
    let new_public = t.json("buyer1", &["key", "new", "buyer-2027"])["public_key"]
        .as_str()
        .expect("key")
        .to_owned();
    // The buyer rotates its own key: signed by the old key and the new one.
    let _ = new_public;
    t.json(
        "buyer1",
        &[
            "party",
            "rotate",
            "Buyer One",
            "--new-key",
            "buyer-2027",
            "--as",
            "buyer1",
        ],
    );
    let old = t.ebl("buyer1", &["bill", "sign", &bill, "--as", "buyer1"]);
    assert_eq!(old.code, 2, "{}", old.stderr); // the old key can no longer even read the bill
    t.json(
        "buyer1",
        &[
            "bill",
            "surrender",
            &bill,
            "--amend",
            "COD",
            "--as",
            "buyer-2027",
        ],
    );
    t.json(
        "carrier",
        &["bill", "accept-surrender", &bill, "--as", "carrier"],
    );
    let doc = t.document("CLI-2");
    let reissued = t.json(
        "carrier",
        &[
            "bill",
            "issue",
            &doc,
            "--to",
            "Buyer One",
            "--shipper",
            "DCSA CTK",
            "--replaces",
            &bill,
            "--as",
            "carrier",
        ],
    );
    let new_bill = reissued["bill"].as_str().expect("bill").to_owned();
    let bundle = t.path("bundle2.json");
    t.json(
        "buyer1",
        &[
            "bill",
            "export",
            &new_bill,
            "-o",
            &bundle,
            "--as",
            "buyer-2027",
        ],
    );
    t.json("auditor", &["chain", "pin"]);
    let verified = t.json("auditor", &["verify", &bundle]);
    assert_eq!(
        verified["verdict"]["bill"]["replaces"],
        serde_json::json!([bill])
    );
    let old_state = t.json("carrier", &["bill", "show", &bill, "--as", "carrier"]);
    assert_eq!(
        old_state["bill"]["status"]["void"]["replaced_by"],
        serde_json::json!([new_bill])
    );
}

/// The README's first command: the whole trade on the node embedded in the wallet.
#[cfg(feature = "embedded-node")]
#[test]
fn the_demo_plays_the_whole_trade_on_its_embedded_node() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = std::process::Command::new(env!("CARGO_BIN_EXE_ebl"))
        .arg("demo")
        .env("HOME", dir.path())
        .output()
        .expect("demo");
    let stdout = String::from_utf8_lossy(&demo.stdout);
    assert!(
        demo.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    assert!(stdout.contains("demo complete"), "{stdout}");
    assert!(stdout.contains("VALID"), "{stdout}");
}

/// The wallet as shipped links no node: `ebl demo` says so by its code and how to get one, and
/// changes nothing.
#[cfg(not(feature = "embedded-node"))]
#[test]
fn the_demo_without_its_embedded_node_says_how_to_get_one() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = std::process::Command::new(env!("CARGO_BIN_EXE_ebl"))
        .args(["--json", "demo"])
        .env("HOME", dir.path())
        .output()
        .expect("demo");
    assert!(!demo.status.success());
    let answer: Value = serde_json::from_slice(&demo.stdout).expect("json");
    assert_eq!(answer["error"]["code"], "no_embedded_node", "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("--features embedded-node")));
    assert_eq!(std::fs::read_dir(dir.path()).expect("home").count(), 0);
}

#[test]
fn completions_name_every_command() {
    let completions = std::process::Command::new(env!("CARGO_BIN_EXE_ebl"))
        .args(["completions", "bash"])
        .output()
        .expect("completions");
    assert!(completions.status.success());
    assert!(String::from_utf8_lossy(&completions.stdout).contains("pledge-accept"));
}

#[test]
fn a_bill_exported_as_a_pint_envelope_is_received_by_a_trust_store_holding_the_node_key() {
    let t = Trade::with_cast();
    let bill = t.issue("PINT-1");
    t.json(
        "shipper",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--to-order",
            "--as",
            "shipper",
        ],
    );
    t.json(
        "shipper",
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    let envelope = t.path("envelope.json");
    let exported = t.json(
        "buyer1",
        &["pint", "export", &bill, "-o", &envelope, "--as", "buyer1"],
    );
    assert_eq!(exported["entries"], 2);
    // The receiver binds the node's key to this platform's code, and as the agent that signs the
    // hosted carrier's issuance manifests.
    let trust = t.dir.path().join("trust");
    let ours = trust.join(ebl_pint::PLATFORM_CODE_DEFAULT);
    std::fs::create_dir_all(&ours).expect("mkdir");
    let jwk = ours.join("node.jwk").to_string_lossy().into_owned();
    t.json("buyer1", &["pint", "jwk", "-o", &jwk]);
    std::fs::copy(&jwk, ours.join("carrier.SMDG.MSC.jwk")).expect("copy");
    let verdict = t.json(
        "receiver",
        &[
            "pint",
            "verify",
            &envelope,
            "--trust",
            &trust.to_string_lossy(),
        ],
    );
    assert_eq!(verdict["code"], "RECE");
    assert_eq!(
        verdict["actions"],
        serde_json::json!(["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER"])
    );
    // A competitor may not export someone else's bill.
    let run = t.ebl(
        "buyer2",
        &[
            "--json",
            "pint",
            "export",
            &bill,
            "-o",
            &t.path("x.json"),
            "--as",
            "buyer2",
        ],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("forbidden"))
    );
}

#[test]
fn a_bill_moves_between_two_platforms_over_pint_with_ebl_pint_import() {
    // Platform A: the bill is issued and passed to the buyer, who is known on both platforms by LEI.
    let a = Trade::new();
    a.admit(
        "carrier",
        "Mediterranean Shipping",
        "carrier",
        &["SMDG:MSC"],
    );
    a.admit(
        "shipper",
        "DCSA CTK",
        "trader",
        &["LEI:5493001KJTIIGC8Y1R12"],
    );
    a.admit(
        "buyer1",
        "Buyer One",
        "trader",
        &[&format!("LEI:{BUYER_LEI}")],
    );
    let bill = a.issue("XPLAT-1");
    for verb in [
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--to-order",
            "--as",
            "shipper",
        ][..],
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    ] {
        a.json("shipper", verb);
    }
    let envelope = a.path("xplat.json");
    a.json(
        "buyer1",
        &["pint", "export", &bill, "-o", &envelope, "--as", "buyer1"],
    );

    // Platform B trusts A's node key (bound to A's platform code, and as the carrier's, for whom A's
    // node signs issuance manifests), hosts the same carrier and the buyer under the same LEI.
    let a_jwk = a.path("platform-a.jwk");
    a.json("buyer1", &["pint", "jwk", "-o", &a_jwk]);
    let a_jwk: Value = serde_json::from_slice(&std::fs::read(&a_jwk).expect("read")).expect("json");
    let b = Trade::receiving(&[
        ("EBL/platform-a.jwk", a_jwk.clone()),
        ("EBL/carrier.SMDG.MSC.jwk", a_jwk),
    ]);
    let trust = DataDir(b.dir.path().join("node")).pint_trust();

    // Tampered on the way: refused with PINT's code (BENV: INCD answers additional documents only),
    // exit 4, nothing imported.
    let mut bad: Value =
        serde_json::from_slice(&std::fs::read(&envelope).expect("read")).expect("json");
    bad["transportDocument"]["transportDocumentReference"] = "XPLAT-2".into();
    let bad_path = b.path("bad.json");
    std::fs::write(&bad_path, bad.to_string()).expect("write");
    let run = b.ebl("buyer1", &["--json", "pint", "import", &bad_path]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.json()["error"]["code"], "BENV");
    assert_eq!(
        b.json("buyer1", &["bill", "list", "--as", "buyer1"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // The real envelope: received, and the bill is the buyer's on platform B.
    let answer = b.json("buyer1", &["pint", "import", &envelope]);
    assert_eq!(answer["responseCode"], "RECE", "{answer}");
    let bills = b.json("buyer1", &["bill", "list", "--as", "buyer1"]);
    let list = bills.as_array().expect("list");
    assert_eq!(list.len(), 1, "{bills}");
    assert_eq!(list[0]["reference"], "XPLAT-1");
    let imported = list[0]["id"].as_str().expect("id").to_owned();
    let shown = b.json("buyer1", &["bill", "show", &imported, "--as", "buyer1"]);
    assert_eq!(shown["bill"]["status"], "issued", "{shown}");
    // It arrived without additional documents.
    let documents = b.json(
        "buyer1",
        &["pint", "documents", &imported, "--as", "buyer1"],
    );
    assert_eq!(documents["documents"], serde_json::json!([]));
    // Sent again (an answer lost on the way): DUPE, still success.
    let again = b.json("buyer1", &["pint", "import", &envelope]);
    assert_eq!(again["responseCode"], "DUPE");
    // And the history verifies offline from B's bundle, the foreign envelope inside its IMPORT.
    let bundle = b.path("imported.bundle");
    b.json(
        "buyer1",
        &["bill", "export", &imported, "-o", &bundle, "--as", "buyer1"],
    );
    // The bank pins platform B's chain, whose bundle it verifies.
    b.json("bank", &["chain", "pin"]);
    let verdict = b.json("bank", &["verify", &bundle]);
    assert_eq!(verdict["valid"], true, "{verdict}");
    assert_eq!(
        verdict["verdict"]["bill"]["reference"], "XPLAT-1",
        "{verdict}"
    );
    assert_eq!(verdict["imported"]["checked"], false);
    let trusting = b.json(
        "bank",
        &["verify", &bundle, "--pint-trust", &trust.to_string_lossy()],
    );
    assert_eq!(trusting["imported"]["code"], "RECE", "{trusting}");
    assert_eq!(
        trusting["imported"]["actions"],
        serde_json::json!(["ISSUE", "ENDORSE_TO_ORDER", "TRANSFER"])
    );
    // A verifier who does not trust platform A learns that, with exit 4.
    let empty = b.dir.path().join("other-trust");
    std::fs::create_dir_all(empty.join("WAVE")).expect("mkdir");
    std::fs::write(
        empty.join("WAVE").join("someone.jwk"),
        ebl_pint::public_jwk(&ebl_core::PartyKey::of(&ebl_core::testkit::key(99))).to_string(),
    )
    .expect("write");
    let run = b.ebl(
        "bank",
        &[
            "--json",
            "verify",
            &bundle,
            "--pint-trust",
            &empty.to_string_lossy(),
        ],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (4, Some("BSIG"))
    );
}

#[test]
fn an_envelope_with_documents_is_imported_and_its_documents_downloaded() {
    use ebl_pint::testkit::ForeignPlatform;
    let mut foreign = ForeignPlatform::new();
    let b = Trade::receiving(&foreign.jwks());

    // Sent to the buyer by LEI, with an invoice and a packing list of 100 KiB each.
    let invoice = vec![b'i'; 100 * 1024];
    let packing = vec![b'p'; 100 * 1024];
    let buyer = serde_json::json!({
        "partyName": "Buyer One",
        "eblPlatform": ebl_pint::PLATFORM_CODE_DEFAULT,
        "identifyingCodes": [{ "codeListProvider": "LEI", "partyCode": BUYER_LEI }],
    });
    let envelope = foreign.envelope("DOCS-1", &buyer, &[&invoice, &packing]);
    let file = b.path("docs-envelope.json");
    std::fs::write(&file, envelope.to_string()).expect("write");

    // Without the documents: MDOC, exit 4, nothing imported.
    let run = b.ebl("buyer1", &["--json", "pint", "import", &file]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.json()["error"]["code"], "MDOC");
    // With them (plus an unrelated file, which is not sent): RECE.
    let docs = b.dir.path().join("docs");
    std::fs::create_dir_all(&docs).expect("mkdir");
    for (name, content) in [("invoice.pdf", &invoice), ("packing.pdf", &packing)] {
        std::fs::write(docs.join(name), content).expect("write");
    }
    std::fs::write(docs.join("notes.txt"), b"unrelated").expect("write");
    let answer = b.json(
        "buyer1",
        &[
            "pint",
            "import",
            &file,
            "--documents",
            &docs.to_string_lossy(),
        ],
    );
    assert_eq!(answer["responseCode"], "RECE", "{answer}");
    assert_eq!(
        answer["receivedAdditionalDocumentChecksums"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    // The buyer lists and downloads them, each checked against its checksum.
    let bills = b.json("buyer1", &["bill", "list", "--as", "buyer1"]);
    let bill = bills[0]["id"].as_str().expect("id").to_owned();
    let out = b.dir.path().join("downloaded");
    let listed = b.json(
        "buyer1",
        &[
            "pint",
            "documents",
            &bill,
            "-o",
            &out.to_string_lossy(),
            "--as",
            "buyer1",
        ],
    );
    assert_eq!(listed["documents"].as_array().map(Vec::len), Some(2));
    assert_eq!(listed["written"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        std::fs::read(out.join("document-0.pdf")).expect("read"),
        invoice
    );
    assert_eq!(
        std::fs::read(out.join("document-1.pdf")).expect("read"),
        packing
    );
}

/// Issue 16, finding 8: a surrender for delivery that another platform sends to the carrier here is the
/// carrier's to answer, through the release binaries: `bill show` says who surrendered it and where,
/// and `bill accept-surrender` accomplishes it.
#[test]
fn a_surrender_from_another_platform_is_pending_until_the_carrier_accepts_it() {
    use ebl_pint::testkit::ForeignPlatform;
    let mut foreign = ForeignPlatform::new();
    let b = Trade::receiving(&foreign.jwks());
    let carrier = serde_json::json!({
        "partyName": "Mediterranean Shipping",
        "eblPlatform": ebl_pint::PLATFORM_CODE_DEFAULT,
        "identifyingCodes": [{ "codeListProvider": "SMDG", "partyCode": "MSC" }],
    });
    let envelope =
        foreign.envelope_ending("SURR-CLI-1", &[("SURRENDER_FOR_DELIVERY", &carrier)], &[]);
    let file = b.path("surrender.json");
    std::fs::write(&file, envelope.to_string()).expect("write");
    let answer = b.json("carrier", &["pint", "import", &file]);
    assert_eq!(answer["responseCode"], "RECE", "{answer}");

    let shown = b.ebl(
        "carrier",
        &["bill", "show", "SURR-CLI-1", "--as", "carrier"],
    );
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown
            .stdout
            .contains("PENDING_DELIVERY (surrendered by Shipper Ltd (shipper-1 on FRGN), on another platform)"),
        "{}",
        shown.stdout
    );
    let accepted = b.json(
        "carrier",
        &["bill", "accept-surrender", "SURR-CLI-1", "--as", "carrier"],
    );
    assert_eq!(accepted["status"], "accepted", "{accepted}");
    let shown = b.json(
        "carrier",
        &["bill", "show", "SURR-CLI-1", "--as", "carrier"],
    );
    assert_eq!(shown["bill"]["status"], "accomplished", "{shown}");
}

/// `--lang zh` (or a Chinese locale) changes the words for people, never the codes or `--json`; a
/// party's Chinese name keeps the worklist's columns straight.
#[test]
fn chinese_words_for_people_with_the_same_codes_and_json() {
    let t = Trade::with_cast();
    t.admit("ningbo", "宁波港大宗贸易有限公司", "trader", &[]);
    let bill = t.issue("ZH-1");
    t.json(
        "shipper",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "宁波港大宗贸易有限公司",
            "--to-order",
            "--as",
            "shipper",
        ],
    );
    let moved = t
        .ebl(
            "shipper",
            &[
                "--lang",
                "zh",
                "bill",
                "transfer",
                &bill,
                "--to",
                "宁波港大宗贸易有限公司",
                "--as",
                "shipper",
            ],
        )
        .ok()
        .stdout;
    // The confirmation says what was done and to whom (issue 34: it said only "accepted and recorded").
    assert!(
        moved.starts_with("已将占有转让给 宁波港大宗贸易有限公司"),
        "{moved}"
    );
    assert!(moved.contains("区块"), "{moved}");
    let shown = t
        .ebl(
            "ningbo",
            &["--lang", "zh", "bill", "show", &bill, "--as", "ningbo"],
        )
        .ok()
        .stdout;
    assert!(
        shown.contains("占有人      宁波港大宗贸易有限公司"),
        "{shown}"
    );
    assert!(shown.contains("凭 宁波港大宗贸易有限公司 指示"), "{shown}");
    assert!(shown.contains("已签发"), "{shown}");
    let history = t
        .ebl(
            "ningbo",
            &["--lang", "zh", "bill", "history", &bill, "--as", "ningbo"],
        )
        .ok()
        .stdout;
    assert!(
        history.contains("将占有转让给 宁波港大宗贸易有限公司"),
        "{history}"
    );

    // The locale chooses when --lang does not (the harness sets EBL_LANG=en; a user's shell does not).
    let home = t.home("ningbo").to_string_lossy().into_owned();
    let by_locale = std::process::Command::new(env!("CARGO_BIN_EXE_ebl"))
        .args(["bill", "list", "--as", "ningbo"])
        .env("EBL_HOME", &home)
        .env("EBL_NODE", &t.node.url)
        .env("EBL_PASSPHRASE", PASSPHRASE)
        .env_remove("EBL_LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "zh_CN.UTF-8")
        .output()
        .expect("ebl");
    let listed = String::from_utf8_lossy(&by_locale.stdout).into_owned();
    assert!(listed.starts_with("提单号"), "{listed}");
    // Every line's bill id starts in the same terminal column, Chinese names or not.
    let columns: Vec<usize> = listed
        .lines()
        .skip(1)
        .map(|l| {
            let at = l.find(&bill[..12]).expect("bill id on the line");
            ebl_cli::lang::display_width(&l[..at])
        })
        .collect();
    // The same columns as the English worklist's: one layout, worded in either language.
    assert_eq!(columns, [20 + 2 + 17 + 2 + 22 + 2]);

    // The same refusal: the code and --json do not change with the language.
    let refused = |flags: &[&str]| {
        let mut args = flags.to_vec();
        args.extend_from_slice(&[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "shipper",
        ]);
        t.ebl("shipper", &args)
    };
    let en = refused(&["--json"]);
    let zh = refused(&["--json", "--lang", "zh"]);
    assert_eq!(en.code, zh.code);
    assert_eq!(en.json()["error"]["code"], zh.json()["error"]["code"]);
    let text = refused(&["--lang", "zh"]);
    assert!(
        text.stderr.starts_with("错误（账本拒绝）："),
        "{}",
        text.stderr
    );
    // Issue 34: the error line was Chinese only in its kind ("错误（用法或输入有误）：no bill ..."). Its first
    // line is the code's meaning in Chinese, from the one catalogue; the rule's own words follow as such.
    let code = en.json()["error"]["code"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    let first = text.stderr.lines().next().unwrap_or("");
    let meaning =
        ebl_words::codes::explain(&code, ebl_cli::lang::Lang::Zh).expect("in the catalogue");
    assert_eq!(
        first,
        format!("错误（账本拒绝）：{meaning} [{code}]"),
        "{}",
        text.stderr
    );
    assert!(
        text.stderr
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("  原文：")),
        "{}",
        text.stderr
    );
    assert!(
        text.stderr.contains(&format!(
            "[{}]",
            en.json()["error"]["code"].as_str().unwrap_or("?")
        )),
        "{}",
        text.stderr
    );
}

/// Issue 14: `party list` misaligned names over 28 characters and Chinese names, was sorted by key and
/// had no header.
#[test]
fn regression_party_list_is_a_table_sorted_by_name_that_fits_100_columns() {
    use ebl_cli::lang::display_width;
    let t = Trade::with_cast();
    t.admit("zh", "中国银行股份有限公司宁波市分行", "bank", &[]);
    t.admit(
        "long",
        "A Trading House With A Name Far Longer Than Any Column",
        "trader",
        &["LEI:5299009N3KB4DLSWA442"],
    );
    let text = t
        .ebl("buyer1", &["party", "list", "--as", "buyer1"])
        .ok()
        .stdout;
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("ROLES"),
        "{text}"
    );
    assert_eq!(
        lines.len(),
        1 + ebl_tests::CAST.len() + 2,
        "a header, the cast and two more: {text}"
    );
    for line in &lines {
        assert!(display_width(line) <= 100, "wider than 100 columns: {line}");
    }
    // Every row's roles start in the header's ROLES column, whatever the name's characters.
    let roles_at = display_width(&lines[0][..lines[0].find("ROLES").expect("ROLES")]);
    for line in &lines[1..] {
        let role = ["carrier", "trader", "bank"]
            .iter()
            .filter_map(|r| line.find(r))
            .min()
            .expect("a role");
        assert_eq!(display_width(&line[..role]), roles_at, "{text}");
    }
    // Sorted by name: "A Trading House…" first, the Chinese bank last.
    assert!(lines[1].starts_with("A Trading House"), "{text}");
    assert!(
        lines.last().is_some_and(|l| l.starts_with("中国银行")),
        "{text}"
    );
}
