//! `ebl demo`: a whole trade on an embedded node, played with the same commands a user types.

use std::path::{Path, PathBuf};

use clap::Parser;
use ebl_core::testkit::DCSA_TO_ORDER_BOL;
use ebl_core::PartyKey;
use serde_json::Value;

use crate::cli::{self, Cli};
use crate::error::{CliError, Refusal, Result};
use crate::wallet::{Passphrase, Wallet};

const PASSPHRASE: &str = "demo passphrase";

/// Initializes a demo ledger in `data` and serves it on 127.0.0.1:0 from this process.
fn start_node(data: &Path) -> Result<(ebl_node::LocalNode, ebl_core::SigningKey)> {
    let dir = ebl_node::DataDir(data.to_owned());
    let operator = ebl_node::keyfile::generate().map_err(|e| CliError::io("operator key", e))?;
    ebl_node::init(
        &dir,
        "ebl-demo",
        PartyKey::of(&operator),
        ebl_pint::PLATFORM_CODE_DEFAULT,
    )
    .map_err(|e| CliError::io("initializing the demo ledger", e))?;
    let node = ebl_node::LocalNode::open(&dir, ebl_node::Settings::default())
        .map_err(|e| CliError::io("starting the demo node", e))?;
    Ok((node, operator))
}

/// Plays commands as a user types them, with one wallet home, against one node at a time.
pub(crate) struct Player {
    pub(crate) wallet: Wallet,
    pub(crate) node: String,
    pub(crate) home: PathBuf,
    pub(crate) step: usize,
}

impl Player {
    pub(crate) fn new(home: &Path, node: &str) -> Player {
        Player {
            wallet: Wallet::new(home, node, Passphrase::Given(PASSPHRASE.to_owned())),
            node: node.to_owned(),
            home: home.to_owned(),
            step: 0,
        }
    }

    /// From now on the wallet talks to the node at `node`.
    pub(crate) fn talk_to(&mut self, node: &str) {
        self.wallet = Wallet::new(&self.home, node, Passphrase::Given(PASSPHRASE.to_owned()));
        self.node = node.to_owned();
    }

    pub(crate) fn say(&mut self, text: &str) {
        self.step += 1;
        println!("\n== {}. {text}", self.step);
    }

    /// Runs one `ebl` command exactly as typed, prints it and its output, and returns its JSON.
    pub(crate) fn ebl(&self, args: &[&str]) -> Result<Value> {
        println!(
            "$ ebl {}",
            args.iter()
                .map(|a| if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    (*a).to_owned()
                })
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut full = vec!["ebl", "--node", &self.node, "--home"];
        let home = self.home.to_string_lossy().into_owned();
        full.push(&home);
        full.extend_from_slice(args);
        let parsed = Cli::try_parse_from(&full)
            .map_err(|e| CliError::from(Refusal::BadUsage(e.to_string())))?;
        let out = cli::run(parsed, &self.wallet)?;
        for line in out.human.lines() {
            println!("  {line}");
        }
        Ok(out.json)
    }
}

/// Writes DCSA's to-order transport document, with a reference of its own, into `root`; returns its
/// path.
pub(crate) fn write_document(root: &Path) -> Result<String> {
    let mut document: Value =
        serde_json::from_str(DCSA_TO_ORDER_BOL).map_err(|e| CliError::io("demo document", e))?;
    let reference = format!("DEMO{}", crate::wallet::now_ms() % 100_000_000);
    document["transportDocumentReference"] = reference.into();
    let doc_path = root.join("transport-document.json");
    let text =
        serde_json::to_vec_pretty(&document).map_err(|e| CliError::io("demo document", e))?;
    std::fs::write(&doc_path, text).map_err(|e| CliError::io("writing the demo document", e))?;
    Ok(doc_path.to_string_lossy().into_owned())
}

fn reference_of(doc: &str) -> Result<String> {
    let text = std::fs::read(doc).map_err(|e| CliError::io("reading the demo document", e))?;
    let value: Value =
        serde_json::from_slice(&text).map_err(|e| CliError::io("demo document", e))?;
    Ok(value["transportDocumentReference"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Plays the demo trade; `keep` keeps the data in a directory of the user's choice.
pub fn run(keep: Option<PathBuf>) -> Result<()> {
    let temp = tempfile::tempdir().map_err(|e| CliError::io("temporary directory", e))?;
    let root = match keep {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| CliError::io(&format!("creating {}", dir.display()), e))?;
            dir
        }
        None => temp.path().to_owned(),
    };
    let (data, home) = (root.join("node"), root.join("wallet"));
    println!(
        "ebl demo: a to-order bill of lading from issue to delivery, with a bank loan against it."
    );
    println!(
        "node data in {}, wallet in {}",
        data.display(),
        home.display()
    );
    let (node, operator) = start_node(&data)?;
    println!("embedded node serving at {}", node.url);

    let mut p = Player::new(&home, &node.url);

    p.say("Keys: the operator, a carrier, a shipper, a buyer and a bank each hold their own (stored encrypted).");
    p.wallet.import_key("operator", &operator)?;
    for name in ["carrier", "shipper", "buyer", "bank"] {
        p.ebl(&["key", "new", name])?;
    }

    p.say(
        "The operator admits the parties, with their roles and identifiers (KYC done off-ledger).",
    );
    p.ebl(&[
        "party",
        "register",
        "Mediterranean Shipping Company",
        "--key",
        "carrier",
        "--role",
        "carrier",
        "--id",
        "SMDG:MSC",
        "--as",
        "operator",
    ])?;
    p.ebl(&[
        "party",
        "register",
        "DCSA CTK",
        "--key",
        "shipper",
        "--role",
        "trader",
        "--id",
        "LEI:5493001KJTIIGC8Y1R12",
        "--as",
        "operator",
    ])?;
    p.ebl(&[
        "party",
        "register",
        "Penang Rubber Trading",
        "--key",
        "buyer",
        "--role",
        "trader",
        "--as",
        "operator",
    ])?;
    p.ebl(&[
        "party",
        "register",
        "Harbour Bank",
        "--key",
        "bank",
        "--role",
        "bank",
        "--id",
        "LEI:529900T8BM49AURSDO55",
        "--as",
        "operator",
    ])?;
    p.ebl(&["party", "list"])?;

    p.say("The carrier checks the DCSA eBL 3.0 transport document and issues a to-order bill to the shipper.");
    let doc = write_document(&root)?;
    let reference = reference_of(&doc)?;
    p.ebl(&["doc", "check", &doc])?;
    let issued = p.ebl(&["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"])?;
    let bill = issued["bill"]
        .as_str()
        .ok_or_else(|| CliError::io("issue", "no bill id"))?
        .to_owned();

    p.say("The shipper sells the cargo at sea: endorses the bill to the buyer's order and hands it over.");
    p.ebl(&[
        "bill",
        "endorse",
        &bill,
        "--to",
        "Penang Rubber Trading",
        "--to-order",
        "--as",
        "shipper",
    ])?;
    p.ebl(&[
        "bill",
        "transfer",
        &bill,
        "--to",
        "Penang Rubber Trading",
        "--as",
        "shipper",
    ])?;

    p.say("The buyer asks Harbour Bank for a loan against the bill and sends it a signed pledge offer.");
    let offer = root
        .join("pledge-offer.json")
        .to_string_lossy()
        .into_owned();
    p.ebl(&[
        "bill",
        "pledge",
        &bill,
        "--bank",
        "Harbour Bank",
        "--amount",
        "1000000.00",
        "--currency",
        "USD",
        "--loan",
        "HB-2026-0042",
        "-o",
        &offer,
        "--as",
        "buyer",
    ])?;

    p.say("The bank verifies the whole chain from the offer, co-signs, and takes the bill as collateral.");
    p.ebl(&["bill", "pledge-accept", &offer, "--as", "bank"])?;
    p.ebl(&["bill", "status", &bill, "--as", "bank"])?;

    p.say("The buyer repays; the bank releases the pledge and the bill returns to the buyer.");
    p.ebl(&["bill", "release", &bill, "--as", "bank"])?;

    p.say("The ship arrives: the buyer surrenders the bill and the carrier accepts, delivering the cargo.");
    p.ebl(&["bill", "surrender", &bill, "--as", "buyer"])?;
    p.ebl(&["bill", "accept-surrender", &bill, "--as", "carrier"])?;
    p.ebl(&["bill", "history", &bill, "--as", "buyer"])?;

    p.say("An auditor gets a proof bundle and verifies it offline, trusting no one.");
    let bundle = root.join("bundle.json").to_string_lossy().into_owned();
    p.ebl(&["bill", "export", &bill, "-o", &bundle, "--as", "buyer"])?;
    drop(node);
    println!("(the node is stopped now: what follows needs no network)");
    p.ebl(&["verify", &bundle])?;
    println!("\ndemo complete: bill {reference} issued, sold, financed, repaid and delivered.");
    Ok(())
}
