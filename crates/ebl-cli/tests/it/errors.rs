//! Bad input, refusals and a missing node: one clear line, the documented exit code, nothing half-done.

use crate::support::{ebl_at, Trade};

#[test]
fn a_rule_refusal_exits_3_with_the_rules_code() {
    let t = Trade::with_cast();
    let bill = t.issue("ERR-1");
    let refused = t.ebl(
        "buyer1",
        &[
            "--json",
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "buyer1",
        ],
    );
    // The buyer is no party of the bill yet: told so about the action, exit 3 as a refusal (issue 14:
    // it was `forbidden`, about reading, exit 2).
    assert_eq!(refused.code, 3, "{}", refused.stdout);
    assert_eq!(refused.json()["error"]["code"], "not_a_party");
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("cannot TRANSFER")),
        "{}",
        refused.stdout
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
    let refused = t.ebl(
        "shipper",
        &[
            "--json",
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "shipper",
        ],
    );
    assert_eq!(refused.code, 3);
    assert_eq!(refused.json()["error"]["code"], "not_possessor");
    let refused = t.ebl(
        "buyer1",
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer Two",
            "--as",
            "buyer1",
        ],
    );
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.starts_with("error: refused by the ledger")
            && refused.stderr.contains("[no_title]"),
        "{}",
        refused.stderr
    );
    let shown = t.json("buyer1", &["bill", "show", &bill, "--as", "buyer1"]);
    assert_eq!(shown["bill"]["transactions"], 2, "refusals changed nothing");
}

#[test]
fn bad_input_exits_2() {
    let t = Trade::with_cast();
    // Wrong passphrase.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebl"))
        .args(["--json", "key", "show", "carrier"])
        .env("EBL_HOME", t.home("carrier"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "show needs no passphrase");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ebl"))
        .args(["--json", "bill", "show", &"0".repeat(64), "--as", "carrier"])
        .env("EBL_HOME", t.home("carrier"))
        .env("EBL_NODE", &t.node.url)
        .env("EBL_PASSPHRASE", "not the passphrase")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(body["error"]["code"], "wrong_passphrase");
    // Unknown party, unknown bill, malformed id, unknown key, malformed document, bad usage.
    let bill = t.issue("ERR-2");
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "shipper",
            vec![
                "bill".into(),
                "transfer".into(),
                bill.clone(),
                "--to".into(),
                "Nobody Ltd".into(),
                "--as".into(),
                "shipper".into(),
            ],
            "unknown_party",
        ),
        (
            "shipper",
            vec![
                "bill".into(),
                "show".into(),
                "ab".repeat(32),
                "--as".into(),
                "shipper".into(),
            ],
            "unknown_bill",
        ),
        (
            "shipper",
            vec![
                "bill".into(),
                "show".into(),
                "xyz".into(),
                "--as".into(),
                "shipper".into(),
            ],
            "unknown_bill",
        ),
        (
            "shipper",
            vec![
                "bill".into(),
                "show".into(),
                bill.clone(),
                "--as".into(),
                "nokey".into(),
            ],
            "unknown_key",
        ),
        (
            "shipper",
            vec![
                "bill".into(),
                "pledge".into(),
                bill.clone(),
                "--bank".into(),
                "First Bank".into(),
                "--amount".into(),
                "1,000".into(),
                "--loan".into(),
                "L".into(),
                "-o".into(),
                t.path("x.json"),
                "--as".into(),
                "shipper".into(),
            ],
            "malformed_amount",
        ),
        (
            "carrier",
            vec![
                "bill".into(),
                "surrender".into(),
                bill.clone(),
                "--amend".into(),
                "XYZ".into(),
                "--as".into(),
                "carrier".into(),
            ],
            "bad_reason",
        ),
    ];
    for (who, args, code) in cases {
        let mut full = vec!["--json"];
        full.extend(args.iter().map(String::as_str));
        let run = t.ebl(who, &full);
        assert_eq!(
            (run.code, run.json()["error"]["code"].as_str()),
            (2, Some(code)),
            "{args:?}: {}",
            run.stdout
        );
    }
    let bad_doc = t.path("bad.json");
    std::fs::write(&bad_doc, br#"{"transportDocumentReference": "X", "transportDocumentTypeCode": "SWB", "isToOrder": true}"#).expect("write");
    let run = t.ebl("carrier", &["doc", "check", &bad_doc]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("[missing_field]"), "{}", run.stderr);
    std::fs::write(&bad_doc, b"{not json").expect("write");
    let run = t.ebl(
        "carrier",
        &[
            "--json", "bill", "issue", &bad_doc, "--to", "DCSA CTK", "--as", "carrier",
        ],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("malformed_json"))
    );
    let run = t.ebl("carrier", &["bill", "frobnicate"]);
    assert_eq!(run.code, 2);
    // The missing document: a clear line, no partial issue.
    let run = t.ebl(
        "carrier",
        &[
            "bill",
            "issue",
            &t.path("missing.json"),
            "--to",
            "DCSA CTK",
            "--as",
            "carrier",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read transport document"),
        "{}",
        run.stderr
    );
}

/// The shipper's proof bundle of `bill`, written to `name` after `tamper` changed it.
fn exported_then(
    t: &Trade,
    bill: &str,
    name: &str,
    tamper: impl FnOnce(&mut serde_json::Value),
) -> String {
    let bundle = t.path(name);
    t.json(
        "shipper",
        &["bill", "export", bill, "-o", &bundle, "--as", "shipper"],
    );
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("read")).expect("json");
    tamper(&mut value);
    std::fs::write(&bundle, serde_json::to_vec(&value).expect("json")).expect("write");
    bundle
}

#[test]
fn a_tampered_bundle_fails_verification_with_exit_4() {
    let t = Trade::with_cast();
    let bill = t.issue("ERR-3");
    let bundle = exported_then(&t, &bill, "b.json", |value| {
        let sig = value["transactions"][0]["transaction"]["signatures"][0]["signature"]
            .as_str()
            .expect("sig")
            .to_owned();
        let flipped = format!(
            "{}{}",
            if sig.starts_with('0') { "1" } else { "0" },
            &sig[1..]
        );
        value["transactions"][0]["transaction"]["signatures"][0]["signature"] = flipped.into();
    });
    t.json("auditor", &["chain", "pin"]);
    let run = t.ebl("auditor", &["verify", &bundle]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(
        run.stderr.contains("INVALID") && run.stderr.contains("bad_signature"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_node_that_is_down_gives_exit_5_quickly() {
    let t = Trade::new();
    let started = std::time::Instant::now();
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused at once.
    let run = ebl_at(
        &t.home("operator"),
        "http://127.0.0.1:9",
        &["--json", "party", "list"],
    );
    assert_eq!(run.code, 5, "{}", run.stdout);
    assert_eq!(run.json()["error"]["code"], "node_unreachable");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let run = ebl_at(
        &t.home("operator"),
        "http://127.0.0.1:9",
        &["party", "list"],
    );
    assert!(
        run.stderr.contains("hint: start one with `ebl-node run`"),
        "{}",
        run.stderr
    );
}

#[test]
fn pint_envelopes_are_verified_offline_with_their_codes() {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ebl-pint/tests/fixtures");
    let keys = fixtures.join("trust").to_string_lossy().into_owned();
    let good = fixtures
        .join("HHL71800000-ebl-envelope-ed25519.json")
        .to_string_lossy()
        .into_owned();
    let home = tempfile::tempdir().expect("dir");
    let run = ebl_at(
        home.path(),
        "http://127.0.0.1:9",
        &["--json", "pint", "verify", &good, "--trust", &keys],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["code"], "RECE");
    assert_eq!(
        run.json()["actions"],
        serde_json::json!(["ISSUE", "TRANSFER"])
    );
    // Tampered document: BENV (INCD answers additional documents only), exit 4.
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&good).expect("read")).expect("json");
    envelope["transportDocument"]["declaredValue"] = 1.into();
    let bad = home.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_vec(&envelope).expect("json")).expect("write");
    let run = ebl_at(
        home.path(),
        "http://127.0.0.1:9",
        &[
            "--json",
            "pint",
            "verify",
            &bad.to_string_lossy(),
            "--trust",
            &keys,
        ],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (4, Some("BENV"))
    );
}

/// Issue 13: a bundle whose entries were reordered verified, because the verifier sorted them first.
#[test]
fn regression_a_bundle_with_reordered_entries_is_refused() {
    let t = Trade::with_cast();
    let bill = t.issue("ERR-ORDER");
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
    let bundle = t.path("ordered.json");
    t.json(
        "shipper",
        &["bill", "export", &bill, "-o", &bundle, "--as", "shipper"],
    );
    t.json("auditor", &["chain", "pin"]);
    assert_eq!(t.json("auditor", &["verify", &bundle])["valid"], true);
    let mut value: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).expect("read")).expect("json");
    let entries = value["transactions"].as_array_mut().expect("entries");
    entries.swap(0, 1);
    std::fs::write(&bundle, serde_json::to_vec(&value).expect("json")).expect("write");
    let run = t.ebl("auditor", &["--json", "verify", &bundle]);
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (4, Some("entries_out_of_order"))
    );
}

/// Issue 14: `bill issue` printed the reference and a 64-hex id, and `bill show REFERENCE` or a short
/// prefix of the id were both refused.
#[test]
fn regression_a_bill_is_named_by_its_reference_or_a_prefix_of_its_id() {
    let t = Trade::with_cast();
    let bill = t.issue("REF-NAMES");
    let by_reference = t.json("shipper", &["bill", "show", "REF-NAMES", "--as", "shipper"]);
    assert_eq!(by_reference["bill"]["id"], bill.as_str());
    let by_code = t.json(
        "shipper",
        &["bill", "show", "SMDG:MSC/REF-NAMES", "--as", "shipper"],
    );
    assert_eq!(by_code["bill"]["id"], bill.as_str());
    let by_prefix = t.json("shipper", &["bill", "show", &bill[..12], "--as", "shipper"]);
    assert_eq!(by_prefix["bill"]["id"], bill.as_str());
    // Seven digits are too few to name a bill, and a bill one has no part in is not found.
    let run = t.ebl(
        "shipper",
        &["--json", "bill", "show", &bill[..7], "--as", "shipper"],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("unknown_bill"))
    );
    let run = t.ebl(
        "buyer1",
        &["--json", "bill", "show", "REF-NAMES", "--as", "buyer1"],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("unknown_bill"))
    );
}

/// Issue 14: `--node 127.0.0.1:7878` without a scheme exited 5 (unreachable) instead of 2, and a one-letter
/// passphrase protected a new key.
#[test]
fn regression_a_node_address_without_scheme_and_a_weak_passphrase_are_usage_errors() {
    let home = tempfile::tempdir().expect("home");
    let run = ebl_tests::run(
        std::path::Path::new(env!("CARGO_BIN_EXE_ebl")),
        &["--json", "--node", "127.0.0.1:7878", "chain", "show"],
        &[("EBL_HOME", &home.path().to_string_lossy())],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("bad_node_address"))
    );
    let run = ebl_tests::run(
        std::path::Path::new(env!("CARGO_BIN_EXE_ebl")),
        &["--json", "key", "new", "k"],
        &[
            ("EBL_HOME", &home.path().to_string_lossy()),
            ("EBL_PASSPHRASE", "x"),
        ],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("weak_passphrase"))
    );
    assert!(
        !home.path().join("keys").join("k.json").exists(),
        "nothing was written"
    );
    // At the bound: seven characters are refused, eight accepted.
    for (passphrase, ok) in [("1234567", false), ("12345678", true)] {
        let run = ebl_tests::run(
            std::path::Path::new(env!("CARGO_BIN_EXE_ebl")),
            &["--json", "key", "new", "k"],
            &[
                ("EBL_HOME", &home.path().to_string_lossy()),
                ("EBL_PASSPHRASE", passphrase),
            ],
        );
        assert_eq!(run.code == 0, ok, "{passphrase:?}: {}", run.stdout);
    }
}

/// Issue 14: `-o` silently overwrote an existing file.
#[test]
fn regression_an_output_file_is_not_replaced_without_force() {
    let t = Trade::with_cast();
    let bill = t.issue("ERR-OVERWRITE");
    let file = t.path("keep.json");
    std::fs::write(&file, b"precious").expect("write");
    let run = t.ebl(
        "shipper",
        &[
            "--json", "bill", "export", &bill, "-o", &file, "--as", "shipper",
        ],
    );
    assert_eq!(
        (run.code, run.json()["error"]["code"].as_str()),
        (2, Some("file_exists"))
    );
    assert_eq!(std::fs::read(&file).expect("read"), b"precious");
    t.json(
        "shipper",
        &[
            "bill", "export", &bill, "-o", &file, "--force", "--as", "shipper",
        ],
    );
    assert!(std::fs::read(&file).expect("read").starts_with(b"{"));
}

/// `ebl ui` signs with the wallet's keys: it refuses to listen beyond loopback, before unlocking any.
#[test]
fn the_web_app_refuses_a_listen_address_beyond_loopback() {
    let t = Trade::with_cast();
    for listen in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8080"] {
        let run = t.ebl("carrier", &["--json", "ui", "--listen", listen]);
        assert_eq!(
            (run.code, run.json()["error"]["code"].as_str()),
            (2, Some("not_loopback")),
            "{listen}: {}",
            run.stdout
        );
    }
}

/// A loan's currency is one ISO 4217 lists: a typo is refused before anything is signed or written.
#[test]
fn a_pledge_offer_in_a_currency_iso_4217_does_not_list_is_refused() {
    let t = Trade::with_cast();
    let bill = t.issue("CUR-1");
    let offer = t.path("offer.json");
    for currency in ["RMB", "USS", "XYZ"] {
        let run = t.ebl(
            "shipper",
            &[
                "--json",
                "bill",
                "pledge",
                &bill,
                "--bank",
                "First Bank",
                "--amount",
                "10.00",
                "--currency",
                currency,
                "--loan",
                "L-1",
                "-o",
                &offer,
                "--as",
                "shipper",
            ],
        );
        assert_eq!(
            (run.code, run.json()["error"]["code"].as_str()),
            (2, Some("unknown_currency")),
            "{currency}: {}",
            run.stdout
        );
        assert!(!std::path::Path::new(&offer).exists(), "no offer written");
    }
    let run = t.ebl(
        "shipper",
        &[
            "--json",
            "bill",
            "pledge",
            &bill,
            "--bank",
            "First Bank",
            "--amount",
            "10.00",
            "--currency",
            "cny",
            "--loan",
            "L-1",
            "-o",
            &offer,
            "--as",
            "shipper",
        ],
    );
    assert_eq!(
        run.code, 0,
        "a listed code in lower case is taken: {}",
        run.stderr
    );
}

/// Issue 14: exit codes and messages that did not fit what went wrong.
#[test]
fn regression_refusals_name_parties_and_exit_as_what_they_are() {
    let t = Trade::with_cast();
    let bill = t.issue("FIT-1");
    // A non-party surrendering: about surrendering, exit 3.
    let surrender = t.ebl("buyer2", &["bill", "surrender", &bill, "--as", "buyer2"]);
    assert_eq!(surrender.code, 3, "{}", surrender.stderr);
    assert!(
        surrender.stderr.contains("cannot SURRENDER_FOR_DELIVERY")
            && surrender.stderr.contains("[not_a_party]")
            && !surrender.stderr.contains("read"),
        "{}",
        surrender.stderr
    );
    // Pledging to a party that is no bank: the refusal names it, not its key.
    let offer = t.path("fit-offer.json");
    let pledge = |bank: &str, amount: &str| {
        t.ebl(
            "shipper",
            &[
                "bill", "pledge", &bill, "--bank", bank, "--amount", amount, "--loan", "L-1", "-o",
                &offer, "--as", "shipper",
            ],
        )
    };
    let not_bank = pledge("Buyer One", "10");
    assert_eq!(not_bank.code, 3, "{}", not_bank.stderr);
    assert!(
        not_bank.stderr.contains("[missing_role]") && not_bank.stderr.contains("\"Buyer One\""),
        "{}",
        not_bank.stderr
    );
    let buyer_id = t.json("shipper", &["party", "show", "Buyer One"])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(!not_bank.stderr.contains(&buyer_id), "{}", not_bank.stderr);
    // A negative amount reaches the wallet's own rule, not clap's "unexpected argument".
    let negative = pledge("First Bank", "-5");
    assert_eq!(negative.code, 2, "{}", negative.stderr);
    assert!(
        negative.stderr.contains("[malformed_amount]"),
        "{}",
        negative.stderr
    );
    // The wrong bank accepting an offer: the ledger's rule, exit 3, not a failed verification.
    pledge("First Bank", "10").ok();
    let wrong_bank = t.ebl("bank2", &["bill", "pledge-accept", &offer, "--as", "bank2"]);
    assert_eq!(wrong_bank.code, 3, "{}", wrong_bank.stderr);
    assert!(
        wrong_bank.stderr.contains("[not_pledgee]"),
        "{}",
        wrong_bank.stderr
    );
    // A usage error under --json is JSON, exit 2.
    let usage = t.ebl("shipper", &["--json", "bill", "transfer", &bill]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert_eq!(usage.json()["error"]["code"], "bad_usage");
    let shown = t.json("shipper", &["bill", "show", &bill, "--as", "shipper"]);
    assert_eq!(shown["bill"]["transactions"], 1, "refusals changed nothing");
}

/// Issue 34: `ebl verify offer.json` said "missing field genesis at line 704". A pledge offer given to
/// `ebl verify` is named as one, exit 2, with the command that checks it.
#[test]
fn regression_a_pledge_offer_given_to_verify_is_named_as_one() {
    let t = Trade::with_cast();
    let bill = t.issue("OFFER-VERIFY-1");
    let offer = t.offer_pledge("shipper", &bill, "First Bank", ("10.00", "USD"), "L-9");
    t.json("auditor", &["chain", "pin"]);
    let run = t.ebl("auditor", &["--json", "verify", &offer]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    let error = &run.json()["error"];
    assert_eq!(error["code"], "unknown_file_kind", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("is a pledge offer")
            && error["hint"]
                .as_str()
                .unwrap_or("")
                .contains("pledge-review"),
        "{error}"
    );
}

/// Issue 34 reported acting on a bill one has no part in exiting 2, "bad usage", where the help promises
/// 3 for an action the ledger's rules refuse: held here, for a stranger to the bill and for a buyer who
/// sold it on.
#[test]
fn regression_acting_on_a_bill_without_a_part_in_it_exits_3() {
    let t = Trade::with_cast();
    let bill = t.issue("FORMER-1");
    t.sell("shipper", &bill, "Buyer One");
    t.sell("buyer1", &bill, "Buyer Two");
    let transfer = |who: &str| {
        t.ebl(
            who,
            &[
                "--json",
                "bill",
                "transfer",
                &bill,
                "--to",
                "Buyer One",
                "--as",
                who,
            ],
        )
    };
    let stranger = transfer("buyer3");
    assert_eq!(stranger.code, 3, "{}", stranger.stdout);
    assert_eq!(
        stranger.json()["error"]["code"],
        "not_a_party",
        "{}",
        stranger.stdout
    );
    let sold_on = transfer("buyer1");
    assert_eq!(sold_on.code, 3, "{}", sold_on.stdout);
}

/// Issue 34: exit codes true to the help everywhere. Every code `ebl --help` documents is walked: a
/// command that ends in it, and its kind as the help words it.
#[test]
fn every_exit_code_the_help_documents_is_the_one_its_failure_gives() {
    let t = Trade::with_cast();
    let help = t.ebl("shipper", &["--help"]).ok().stdout;
    let documented: Vec<i32> = help
        .split("Exit codes:")
        .nth(1)
        .expect("the help documents its exit codes")
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(documented, [0, 1, 2, 3, 4, 5], "{help}");

    let bill = t.issue("EXIT-1");
    let tampered_file = exported_then(&t, &bill, "exit.tampered.json", |value| {
        value["transactions"][0]["receipt"]["index"] = 7.into();
    });
    // A directory where a file is to be written: local IO fails.
    let directory = t.path("exit-dir");
    std::fs::create_dir_all(&directory).expect("dir");
    // (whose wallet, exit code, command, stable code)
    let walked: [(&str, i32, Vec<&str>, Option<&str>); 6] = [
        ("shipper", 0, vec!["key", "list"], None),
        (
            "shipper",
            1,
            vec!["key", "export", "shipper", "-o", &directory, "--force"],
            Some("io"),
        ),
        (
            "shipper",
            2,
            vec!["bill", "show", "NO-SUCH-BILL", "--as", "shipper"],
            Some("unknown_bill"),
        ),
        (
            "buyer1",
            3,
            vec![
                "bill",
                "transfer",
                &bill,
                "--to",
                "Buyer Two",
                "--as",
                "buyer1",
            ],
            Some("not_a_party"),
        ),
        ("shipper", 4, vec!["verify", &tampered_file], None),
        (
            "shipper",
            5,
            vec![
                "--node",
                "http://127.0.0.1:9",
                "bill",
                "list",
                "--as",
                "shipper",
            ],
            Some("node_unreachable"),
        ),
    ];
    for (who, exit, args, code) in walked {
        let mut all = vec!["--json"];
        all.extend_from_slice(&args);
        let run = t.ebl(who, &all);
        assert_eq!(
            run.code,
            exit,
            "ebl {}: {}{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        if let Some(code) = code {
            assert_eq!(run.json()["error"]["code"], code, "ebl {}", args.join(" "));
        }
    }
}
