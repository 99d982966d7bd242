//! The demo on a node embedded in this process: nothing to start beside `ebl`. It links the node, so it
//! is behind the feature `embedded-node` (off by default); a wallet built without it has no node inside.

#[cfg(feature = "embedded-node")]
use std::path::Path;
use std::path::PathBuf;

#[cfg(feature = "embedded-node")]
use ebl_core::PartyKey;

#[cfg(feature = "embedded-node")]
use serde_json::Value;

#[cfg(feature = "embedded-node")]
use super::{write_document, Player};
#[cfg(feature = "embedded-node")]
use crate::error::CliError;
#[cfg(not(feature = "embedded-node"))]
use crate::error::Refusal;
use crate::error::Result;

#[cfg(feature = "embedded-node")]
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

#[cfg(feature = "embedded-node")]
fn reference_of(doc: &str) -> Result<String> {
    let text = std::fs::read(doc).map_err(|e| CliError::io("reading the demo document", e))?;
    let value: Value =
        serde_json::from_slice(&text).map_err(|e| CliError::io("demo document", e))?;
    Ok(value["transportDocumentReference"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

#[cfg(feature = "embedded-node")]
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
    say!(
        "ebl demo: a to-order bill of lading from issue to delivery, with a bank loan against it."
    );
    say!(
        "node data in {}, wallet in {}",
        data.display(),
        home.display()
    );
    let (node, operator) = start_node(&data)?;
    say!("embedded node serving at {}", node.url);

    let mut p = Player::new(&home, &node.url);

    p.say("Keys: the operator, a carrier, a shipper, a buyer and a bank each hold their own (stored encrypted).");
    p.wallet.import_key("operator", &operator)?;
    for party in &super::CAST {
        p.ebl(&["key", "new", party.key])?;
    }

    p.say(
        "The operator admits the parties, with their roles and identifiers (KYC done off-ledger).",
    );
    for party in &super::CAST {
        p.register(party, "operator", None)?;
    }
    p.ebl(&["party", "list"])?;

    p.say("The carrier checks the DCSA eBL 3.0 transport document and issues a to-order bill to the shipper.");
    let doc = write_document(&root)?;
    let reference = reference_of(&doc)?;
    p.ebl(&["doc", "check", &doc])?;
    let bill = p.issue(&doc)?;

    p.say("The shipper sells the cargo at sea: endorses the bill to the buyer's order and hands it over.");
    p.sell(&bill)?;

    p.say("The buyer asks Harbour Bank for a loan against the bill and sends it a signed pledge offer.");
    let offer = p.offer_pledge(&bill, &root)?;

    p.say("The bank verifies the whole chain from the offer, co-signs, and takes the bill as collateral.");
    p.ebl(&["bill", "pledge-accept", &offer, "--as", "bank"])?;
    p.ebl(&["bill", "status", &bill, "--as", "bank"])?;

    p.say("The buyer repays; the bank releases the pledge and the bill returns to the buyer.");
    p.ebl(&["bill", "release", &bill, "--as", "bank"])?;

    p.say("The ship arrives: the buyer surrenders the bill and the carrier accepts, delivering the cargo.");
    p.deliver(&bill)?;
    p.ebl(&["bill", "history", &bill, "--as", "buyer"])?;

    p.say("An auditor gets a proof bundle and verifies it offline, trusting no one.");
    let bundle = p.export(&bill, &root)?;
    drop(node);
    say!("(the node is stopped now: what follows needs no network)");
    p.ebl(&["verify", &bundle])?;
    say!("\ndemo complete: bill {reference} issued, sold, financed, repaid and delivered.");
    Ok(())
}

/// Without the embedded node there is no node to play on here: say how to get one.
#[cfg(not(feature = "embedded-node"))]
pub fn run(_keep: Option<PathBuf>) -> Result<()> {
    Err(Refusal::NoEmbeddedNode.into())
}
