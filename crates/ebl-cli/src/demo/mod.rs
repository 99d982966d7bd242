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

/// A party of the demo trade: its name, its key's name, its role and its identifiers.
pub(crate) struct Cast {
    pub(crate) name: &'static str,
    pub(crate) key: &'static str,
    pub(crate) role: &'static str,
    pub(crate) ids: &'static [&'static str],
}

/// The demo trade's parties, as both demos admit them.
pub(crate) const CAST: [Cast; 4] = [
    Cast {
        name: "Mediterranean Shipping Company",
        key: "carrier",
        role: "carrier",
        ids: &["SMDG:MSC"],
    },
    Cast {
        name: "DCSA CTK",
        key: "shipper",
        role: "trader",
        ids: &["LEI:5493001KJTIIGC8Y1R12"],
    },
    Cast {
        name: "Penang Rubber Trading",
        key: "buyer",
        role: "trader",
        ids: &[],
    },
    Cast {
        name: "Harbour Bank",
        key: "bank",
        role: "bank",
        ids: &["LEI:529900T8BM49AURSDO55"],
    },
];

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

    /// `ebl party register` of `party` with its roles and identifiers, signed `as_key` (and, with
    /// `proposal`, written there for the other admins to co-sign rather than submitted).
    pub(crate) fn register(
        &self,
        party: &Cast,
        as_key: &str,
        proposal: Option<&str>,
    ) -> Result<()> {
        let mut args = vec![
            "party", "register", party.name, "--key", party.key, "--role", party.role, "--as",
            as_key,
        ];
        for id in party.ids {
            args.extend_from_slice(&["--id", id]);
        }
        if let Some(file) = proposal {
            args.extend_from_slice(&["-o", file]);
        }
        self.ebl(&args).map(|_| ())
    }

    /// The carrier issues a to-order bill of `document` to the shipper; returns the bill's id.
    pub(crate) fn issue(&self, document: &str) -> Result<String> {
        let issued = self.ebl(&[
            "bill", "issue", document, "--to", "DCSA CTK", "--as", "carrier",
        ])?;
        issued["bill"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| CliError::io("issue", "no bill id"))
    }

    /// The shipper sells at sea: endorses `bill` to the buyer's order and hands it over.
    pub(crate) fn sell(&self, bill: &str) -> Result<()> {
        self.ebl(&[
            "bill",
            "endorse",
            bill,
            "--to",
            "Penang Rubber Trading",
            "--to-order",
            "--as",
            "shipper",
        ])?;
        self.ebl(&[
            "bill",
            "transfer",
            bill,
            "--to",
            "Penang Rubber Trading",
            "--as",
            "shipper",
        ])
        .map(|_| ())
    }

    /// The ship arrives: the buyer surrenders `bill` and the carrier accepts, delivering the cargo.
    pub(crate) fn deliver(&self, bill: &str) -> Result<()> {
        self.ebl(&["bill", "surrender", bill, "--as", "buyer"])?;
        self.ebl(&["bill", "accept-surrender", bill, "--as", "carrier"])
            .map(|_| ())
    }

    /// The buyer exports `bill`'s proof bundle into `root`; returns the file's path.
    pub(crate) fn export(&self, bill: &str, root: &Path) -> Result<String> {
        let bundle = root.join("bundle.json").to_string_lossy().into_owned();
        self.ebl(&["bill", "export", bill, "-o", &bundle, "--as", "buyer"])?;
        Ok(bundle)
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
        let parsed = Cli::try_parse_from(&full).map_err(|e| {
            CliError::from(Refusal::BadUsage {
                source: crate::error::source(e),
            })
        })?;
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
