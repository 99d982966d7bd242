//! `ebl demo`: a whole trade played with the same commands a user types, on a node embedded in this
//! process (`embedded`, behind the feature `embedded-node`, off by default) or on a consortium of `ebl-node`
//! processes (`cluster`).

pub mod cluster;
pub mod embedded;

use std::path::{Path, PathBuf};

use clap::Parser;
use ebl_core::sample::DCSA_TO_ORDER_BOL;
use serde_json::Value;

use crate::cli::{self, Cli};
use crate::error::{CliError, Refusal, Result};
use crate::wallet::{Passphrase, Wallet};

const PASSPHRASE: &str = "demo passphrase";

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
        say!("\n== {}. {text}", self.step);
    }

    /// The buyer's signed offer to pledge `bill` to Harbour Bank, as both demos play it, written into
    /// `root`; returns the offer file's path.
    pub(crate) fn offer_pledge(&self, bill: &str, root: &Path) -> Result<String> {
        let offer = root
            .join("pledge-offer.json")
            .to_string_lossy()
            .into_owned();
        self.ebl(&[
            "bill",
            "pledge",
            bill,
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
        Ok(offer)
    }

    /// Runs one `ebl` command exactly as typed, prints it and its output, and returns its JSON.
    pub(crate) fn ebl(&self, args: &[&str]) -> Result<Value> {
        say!(
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
            say!("  {line}");
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
