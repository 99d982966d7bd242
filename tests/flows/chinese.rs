//! A trade played with `--lang zh`: what a Chinese-speaking trader, carrier and bank read. Issue 34 found
//! the key, party, doc, issue, pledge and export commands and the bank's whole pledge review in English
//! under `--lang zh`, and confirmations without their detail ("指示背书：已被账本接受并记录。" with no endorsee).

use ebl_tests::language::english_sentence;
use ebl_tests::Market;

#[test]
fn a_trade_in_chinese_prints_no_english_sentence() {
    let m = Market::with_cast();
    let mut printed = Vec::new();
    let mut zh = |who: &str, args: &[&str]| -> String {
        let mut all = vec!["--lang", "zh"];
        all.extend_from_slice(args);
        let run = m.ebl(who, &all).ok();
        printed.push((args.join(" "), run.stdout.clone()));
        run.stdout
    };
    zh("newcomer", &["key", "new", "newcomer"]);
    zh("newcomer", &["key", "list"]);
    let doc = m.document("ZH-0001", None);
    zh("carrier", &["doc", "check", &doc]);
    zh(
        "carrier",
        &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"],
    );
    let bill = "ZH-0001";
    let endorsed = zh(
        "shipper",
        &[
            "bill",
            "endorse",
            bill,
            "--to",
            "Buyer One",
            "--to-order",
            "--as",
            "shipper",
        ],
    );
    // The confirmation names whom the bill was endorsed to.
    assert!(endorsed.contains("Buyer One"), "{endorsed}");
    zh(
        "shipper",
        &[
            "bill",
            "transfer",
            bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    let offer = m.path("offer.json");
    zh(
        "buyer1",
        &[
            "bill",
            "pledge",
            bill,
            "--bank",
            "First Bank",
            "--amount",
            "250000.00",
            "--currency",
            "USD",
            "--loan",
            "FB-1",
            "-o",
            &offer,
            "--as",
            "buyer1",
        ],
    );
    let review = zh("bank", &["bill", "pledge-review", &offer, "--as", "bank"]);
    assert!(review.contains("是否最新"), "{review}");
    assert!(review.contains("250,000.00 USD"), "{review}");
    zh("bank", &["bill", "pledge-accept", &offer, "--as", "bank"]);
    zh("bank", &["bill", "status", bill, "--as", "bank"]);
    zh("bank", &["bill", "release", bill, "--as", "bank"]);
    let bundle = m.path("bundle.json");
    zh(
        "buyer1",
        &["bill", "export", bill, "-o", &bundle, "--as", "buyer1"],
    );
    zh("bank", &["verify", &bundle]);
    zh("bank", &["chain", "show"]);
    zh("bank", &["chain", "list"]);
    zh("bank", &["party", "show", "First Bank"]);
    zh("buyer1", &["bill", "show", bill, "--as", "buyer1"]);
    zh("buyer1", &["bill", "history", bill, "--as", "buyer1"]);
    zh("buyer1", &["bill", "list", "--as", "buyer1"]);
    zh("operator", &["gov", "members"]);
    // The node's operator reads the node binary in Chinese too: init, verify and status.
    let node = ebl_tests::bin("ebl-node");
    let fresh = tempfile::tempdir().expect("dir");
    let fresh_data = fresh.path().join("data").to_string_lossy().into_owned();
    let data = m.node.data.to_string_lossy().into_owned();
    let operator = m.json("operator", &["key", "show", "operator"])["public_key"]
        .as_str()
        .expect("the operator's key")
        .to_owned();
    for args in [
        vec![
            "--lang",
            "zh",
            "--data",
            &fresh_data,
            "init",
            "--operator",
            &operator,
        ],
        vec!["--lang", "zh", "--data", &data, "verify"],
        vec!["--lang", "zh", "--data", &data, "status"],
    ] {
        let run = ebl_tests::run(&node, &args, &[]).ok();
        printed.push((format!("-node {}", args.join(" ")), run.stdout));
    }
    assert!(
        printed.iter().any(|(_, out)| out.starts_with("完好：链")),
        "ebl-node verify in Chinese"
    );
    // A refusal in Chinese: the meaning and what to do in Chinese; the rule's own words, and its hint,
    // only on the lines marked as the original (原文).
    let refused: [(&str, Vec<&str>); 3] = [
        (
            "buyer1",
            vec!["bill", "show", "NO-SUCH-BILL", "--as", "buyer1"],
        ),
        (
            "shipper",
            vec![
                "bill",
                "transfer",
                bill,
                "--to",
                "Buyer Two",
                "--as",
                "shipper",
            ],
        ),
        (
            "buyer1",
            vec!["bill", "export", bill, "-o", &bundle, "--as", "buyer1"],
        ),
    ];
    for (who, args) in refused {
        let mut all = vec!["--lang", "zh"];
        all.extend_from_slice(&args);
        let run = m.ebl(who, &all);
        assert_ne!(run.code, 0, "{}", run.stdout);
        let said: String = run
            .stderr
            .lines()
            .filter(|l| !l.trim_start().starts_with("原文"))
            .collect::<Vec<_>>()
            .join("\n");
        printed.push((args.join(" "), said));
    }
    let mut english = Vec::new();
    for (command, stdout) in &printed {
        for line in stdout.lines() {
            if let Some(sentence) = english_sentence(line) {
                english.push(format!("ebl {command}: {sentence:?} in {line:?}"));
            }
        }
    }
    assert!(
        english.is_empty(),
        "English sentences under --lang zh:\n{}",
        english.join("\n")
    );
}

#[test]
fn the_english_reader_finds_sentences_and_leaves_names_and_commands() {
    assert!(english_sentence("pledge offer written to offer.json").is_some());
    assert_eq!(english_sentence("已签发提单 ZH-0001 给 DCSA CTK"), None);
    assert_eq!(english_sentence("Buyer One 向 First Bank 质押"), None);
    assert_eq!(
        english_sentence("请将其发送给 First Bank；对方用 ebl bill pledge-review 审核"),
        None
    );
    assert!(english_sentence("质押已接受 the bank now holds the bill").is_some());
    assert_eq!(
        english_sentence("拖入证明包（ebl bill export 导出）并填写链标识"),
        None
    );
}
