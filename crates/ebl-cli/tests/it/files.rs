//! What users keep as files: a key's encrypted backup, and a signed transaction written now and
//! submitted later, elsewhere, by someone else.

use serde_json::Value;

use crate::support::{ebl_at, Trade, PASSPHRASE};

#[test]
fn a_key_backed_up_is_restored_in_another_wallet_only_with_its_passphrase() {
    let t = Trade::new();
    let made = t.json("alice", &["key", "new", "alice"]);
    let backup = t.path("alice.backup");
    let written = t.json("alice", &["key", "export", "alice", "-o", &backup]);
    assert_eq!(written["name"], "alice");
    let text = std::fs::read_to_string(&backup).expect("backup");
    // Still encrypted: the backup is the key file, never the seed.
    assert!(text.contains("ciphertext") && text.contains("argon2id"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup)
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Not over an existing file without --force.
    let again = t.ebl("alice", &["key", "export", "alice", "-o", &backup]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("[file_exists]"), "{}", again.stderr);
    t.ebl(
        "alice",
        &["--force", "key", "export", "alice", "-o", &backup],
    )
    .ok();

    // Another machine's wallet, with the wrong passphrase: refused, and no key made.
    let other = t.home("laptop");
    let wrong = crate::support::ebl_with_passphrase(
        &other,
        &t.node.url,
        "not the passphrase",
        &["key", "import", "alice", &backup],
    );
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("[wrong_passphrase]"),
        "{}",
        wrong.stderr
    );
    assert!(!other.join("keys").join("alice.json").exists());
    // With it: the same key, under a name of the new wallet's choosing.
    let restored = ebl_at(
        &other,
        &t.node.url,
        &["--json", "key", "import", "alice-restored", &backup],
    )
    .ok()
    .json();
    assert_eq!(restored["public_key"], made["public_key"]);
    let shown = ebl_at(&other, &t.node.url, &["key", "show", "alice-restored"]).ok();
    assert_eq!(
        shown.stdout.trim(),
        made["public_key"].as_str().expect("key")
    );
    // KEY_IMPORT_FILE_BYTES_MAX (4096): a file at the bound is read (and is no key), one byte more is not.
    let big = t.path("big.key");
    std::fs::write(&big, " ".repeat(4096)).expect("write");
    let at_bound = ebl_at(&other, &t.node.url, &["key", "import", "big", &big]);
    assert!(
        at_bound.stderr.contains("[malformed_key]"),
        "{}",
        at_bound.stderr
    );
    std::fs::write(&big, " ".repeat(4097)).expect("write");
    let over = ebl_at(&other, &t.node.url, &["key", "import", "big", &big]);
    assert!(over.stderr.contains("[file_too_large]"), "{}", over.stderr);
    // A wrong export passphrase writes nothing.
    let lost = t.path("lost.backup");
    let refused = crate::support::ebl_with_passphrase(
        &t.home("alice"),
        &t.node.url,
        "not the passphrase",
        &["key", "export", "alice", "-o", &lost],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(!std::path::Path::new(&lost).exists());
    let _ = PASSPHRASE;
}

fn possessor(t: &Trade, bill: &str) -> Value {
    t.json("shipper", &["bill", "show", bill, "--as", "shipper"])["bill"]["possessor"].clone()
}

#[test]
fn a_transaction_signed_to_a_file_is_submitted_later_by_another_party() {
    let t = Trade::with_cast();
    let bill = t.issue("TX-FILE-1");
    let before = possessor(&t, &bill);
    let tx = t.path("transfer.json");
    let signed = t.json(
        "shipper",
        &[
            "tx",
            "sign",
            "-o",
            &tx,
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(signed["action"], "TRANSFER");
    // Written, not submitted: the bill has not moved.
    assert_eq!(possessor(&t, &bill), before);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(&tx).expect("tx file")).expect("json");
    assert_eq!(file["format"], "ebl-tx/1");
    assert_eq!(file["id"], signed["id"]);

    // Checked offline.
    let shown = t.json("buyer1", &["tx", "show", &tx]);
    assert_eq!(
        (shown["valid"].as_bool(), &shown["id"]),
        (Some(true), &signed["id"])
    );

    // A changed recipient breaks the signature: refused before anything is sent.
    let mut forged = file.clone();
    forged["transaction"]["body"]["action"]["TRANSFER"]["to"] =
        t.json("buyer1", &["party", "show", "Buyer Two"])["id"].clone();
    forged["id"] = Value::Null;
    let forged_path = t.path("forged.json");
    std::fs::write(&forged_path, forged.to_string()).expect("write");
    let refused = t.ebl("buyer1", &["tx", "submit", &forged_path]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("[bad_transaction_file]"),
        "{}",
        refused.stderr
    );
    // The bare transaction, with the id no longer there to disagree: its signature is what fails.
    std::fs::write(&forged_path, forged["transaction"].to_string()).expect("write");
    let refused = t.ebl("buyer1", &["tx", "submit", &forged_path]);
    assert_ne!(refused.code, 0, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("[bad_signature]"),
        "{}",
        refused.stderr
    );
    assert_eq!(possessor(&t, &bill), before);

    // Submitted by the buyer, whose key never signed it: the shipper's transfer goes through.
    let submitted = t.json("buyer1", &["tx", "submit", &tx]);
    assert_eq!(submitted["status"], "accepted", "{submitted}");
    assert_eq!(submitted["id"], signed["id"]);
    assert_eq!(
        possessor(&t, &bill),
        t.json("buyer1", &["party", "show", "Buyer One"])["id"]
    );
    // Again: a duplicate, nothing changes.
    let twice = t.json("buyer1", &["tx", "submit", &tx]);
    assert_eq!(twice["status"], "duplicate", "{twice}");

    // A signed file made before the bill moved on is stale when it arrives.
    let late = t.path("late.json");
    t.json(
        "buyer1",
        &["tx", "sign", "-o", &late, "sign", &bill, "--as", "buyer1"],
    );
    t.json("buyer1", &["bill", "sign", &bill, "--as", "buyer1"]);
    let stale = t.ebl("buyer1", &["tx", "submit", &late]);
    assert_eq!(stale.code, 3, "{}", stale.stderr);

    // Only an action of one signer can be written.
    let list = t.ebl(
        "buyer1",
        &[
            "tx",
            "sign",
            "-o",
            &t.path("x.json"),
            "list",
            "--as",
            "buyer1",
        ],
    );
    assert_eq!(list.code, 2, "{}", list.stderr);
    assert!(
        list.stderr.contains("[not_one_transaction]"),
        "{}",
        list.stderr
    );
    assert!(!std::path::Path::new(&t.path("x.json")).exists());
}
