//! Issue 13 through the real binaries: TLS between wallet and node, plain HTTP kept to loopback, and
//! the development operator key never left on disk.

use ebl_tests::{bin, run, Market, NodeProcess, PASSPHRASE};

#[test]
fn a_trade_with_a_pledge_runs_over_tls_with_the_node_certificate_pinned() {
    let m = Market::with_cast_over_tls();
    assert!(m.node.url.starts_with("https://"), "{}", m.node.url);
    let bill = m.issue("TLS-1");
    m.sell("shipper", &bill, "Buyer One");
    m.pledge("buyer1", &bill, "bank", "First Bank", "1000.00", "LOAN-TLS");
    let verdict = m.bank_checks("bank", &bill);
    assert_eq!(verdict["bill"]["possessor"], m.id("First Bank").as_str());
}

/// Issue 13: "Everything travels in clear." A node that serves TLS answers no plain request, and a
/// wallet that does not trust its certificate sends nothing to it.
#[test]
fn regression_everything_travels_in_clear() {
    let m = Market::with_cast_over_tls();
    let plain = m.node.url.replacen("https://", "http://", 1);
    let home = m.home("stranger").to_string_lossy().into_owned();
    let got = run(
        &bin("ebl"),
        &["--json", "chain", "show"],
        &[("EBL_HOME", &home), ("EBL_NODE", &plain)],
    );
    assert_ne!(got.code, 0, "plain HTTP to a TLS port: {}", got.stdout);
    // The certificate is not one the host's roots vouch for, and nothing pins it: refused, exit 4.
    let got = run(
        &bin("ebl"),
        &["--json", "chain", "show"],
        &[("EBL_HOME", &home), ("EBL_NODE", &m.node.url)],
    );
    assert_eq!(
        (got.code, got.json()["error"]["code"].as_str()),
        (4, Some("untrusted_node_certificate")),
        "{}",
        got.stdout
    );
    assert!(
        !m.home("stranger").join("chains.json").exists(),
        "no chain was pinned from a node the wallet does not trust"
    );
    // Plain HTTP to another machine is refused before anything is sent (`.invalid` never resolves).
    let got = run(
        &bin("ebl"),
        &["--json", "chain", "show"],
        &[
            ("EBL_HOME", &home),
            ("EBL_NODE", "http://node.invalid:7878"),
        ],
    );
    assert_eq!(
        (got.code, got.json()["error"]["code"].as_str()),
        (2, Some("plain_http_off_loopback"))
    );
}

/// Issue 13: a node listening beyond loopback without TLS serves everything readable; it is refused
/// before it binds or makes anything, unless the operator says so.
#[test]
fn regression_plain_http_off_loopback_is_refused_before_anything_is_made() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("node");
    let data_arg = data.to_string_lossy().into_owned();
    let got = run(
        &bin("ebl-node"),
        &["run", "--listen", "0.0.0.0:0", "--data", &data_arg],
        &[],
    );
    assert_eq!(got.code, 2, "{}", got.stderr);
    assert!(
        got.stderr.contains("[plain_http_off_loopback]"),
        "{}",
        got.stderr
    );
    assert!(!data.exists(), "nothing made for a node that cannot start");
}

/// Issue 13: "The development operator key stays in plaintext in `ebl-data/operator.key`." It is now
/// shown once and never written; the wallet imports it from standard input.
#[test]
fn regression_the_development_operator_key_rests_in_plaintext() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("node");
    let data_arg = data.to_string_lossy().into_owned();
    let init = run(&bin("ebl-node"), &["init", "--data", &data_arg], &[]).ok();
    assert!(!data.join("operator.key").exists(), "operator key on disk");
    let seed = init
        .stderr
        .split_whitespace()
        .find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("the seed is shown once: {}", init.stderr))
        .to_owned();
    for entry in walk(&data) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !bytes.windows(seed.len()).any(|w| w == seed.as_bytes()),
            "{} holds the operator seed",
            entry.display()
        );
    }
    let mut node = NodeProcess::stopped(&data, "127.0.0.1:0");
    node.start();
    let home = dir.path().join("op").to_string_lossy().into_owned();
    let mut import = std::process::Command::new(bin("ebl"))
        .args(["--json", "key", "import", "operator", "-"])
        .env("EBL_HOME", &home)
        .env("EBL_PASSPHRASE", PASSPHRASE)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ebl key import");
    {
        use std::io::Write;
        let mut stdin = import.stdin.take().expect("stdin");
        writeln!(stdin, "{seed}").expect("seed");
    }
    let imported = import.wait_with_output().expect("import");
    assert!(imported.status.success());
    let public: serde_json::Value =
        serde_json::from_slice(&imported.stdout).expect("import answer");
    let genesis = ebl_tests::Http::new(&node.url, ebl_core::Hash::ZERO)
        .get("/v1/genesis")
        .expect("genesis")
        .1;
    assert_eq!(
        genesis["genesis"]["members"][0]["admin"], public["public_key"],
        "the imported key is the genesis's operator"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                pending.push(entry.path());
            }
        } else {
            files.push(path);
        }
    }
    files
}
