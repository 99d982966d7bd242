//! The bank's offline proof bundle: everything needed to verify a bill with no network and no trust in the
//! node, and its verification.
//!
//! A bundle carries the genesis, the whole registry history and the bill's history (each transaction with
//! its receipt), the node-signed headers of every block they sit in, and the node's signed status
//! statement. Verification checks every header signature against the node key named in the genesis, every
//! inclusion proof against its header, replays registry and bill in ledger order from the genesis (every
//! party signature with `verify_strict`, every hash link, every rule), checks the document against the
//! issued checksum, and checks that the statement describes exactly the replayed state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{HistoryEntry, SignedStatement};
use crate::bill::Bill;
use crate::block::SignedBlockHeader;
use crate::document::Document;
use crate::error::Error;
use crate::hash::Hash;
use crate::ledger::{Ledger, Signatures};
use crate::party::PartyId;
use crate::registry::Registry;
use crate::transaction::{BillId, Genesis, SignedTransaction};
use crate::verify::{verify_chain, ChainFailure};

/// The bundle format name; a reader refuses others.
pub const BUNDLE_FORMAT: &str = "ebl-bundle/1";
/// Largest bundle file a reader accepts.
pub const BUNDLE_BYTES_MAX: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub format: String,
    pub genesis: Genesis,
    pub bill: BillId,
    pub document: Document,
    pub registry: Vec<HistoryEntry>,
    pub transactions: Vec<HistoryEntry>,
    pub blocks: Vec<SignedBlockHeader>,
    pub statement: SignedStatement,
}

/// Where a bundle failed and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {error}")]
pub struct BundleFailure {
    pub place: String,
    pub error: Error,
}

fn fail(place: impl Into<String>, error: Error) -> BundleFailure {
    BundleFailure {
        place: place.into(),
        error,
    }
}

/// A verified bill, as of the statement's height and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleVerdict {
    pub chain: Hash,
    pub bill: Bill,
    pub height: u64,
    pub time_ms: u64,
    pub transactions: usize,
    /// Registered names of every party the verdict mentions.
    pub names: BTreeMap<PartyId, String>,
}

impl Bundle {
    /// Reads a bundle from JSON text, with the size limit.
    pub fn from_json(text: &[u8]) -> Result<Bundle, BundleFailure> {
        if text.len() > BUNDLE_BYTES_MAX {
            return Err(fail(
                "bundle",
                Error::EncodingTooLarge {
                    len: text.len(),
                    max: BUNDLE_BYTES_MAX,
                },
            ));
        }
        let bundle: Bundle = serde_json::from_slice(text).map_err(|e| {
            fail(
                "bundle",
                Error::MalformedJson {
                    reason: e.to_string(),
                },
            )
        })?;
        if bundle.format != BUNDLE_FORMAT {
            return Err(fail(
                "bundle",
                Error::MalformedEncoding {
                    reason: format!("format {:?}, expected {BUNDLE_FORMAT:?}", bundle.format),
                },
            ));
        }
        Ok(bundle)
    }

    /// The registry as of the bundle's last registry entry, rebuilt without checking signatures: call it
    /// after [`Bundle::verify`] succeeded, which checked them.
    pub fn registry(&self) -> Registry {
        let mut entries: Vec<&HistoryEntry> = self.registry.iter().collect();
        entries.sort_by_key(|e| (e.receipt.height, e.receipt.index));
        let mut ledger = Ledger::new(self.genesis.clone());
        for entry in entries {
            if entry.transaction.body.action.is_registry() {
                // A refused entry leaves the registry as it was; `verify` reports it.
                let _ = ledger.apply(&entry.transaction, Signatures::AlreadyVerified);
            }
        }
        ledger.registry().clone()
    }

    /// Verifies everything; see the module documentation.
    pub fn verify(&self) -> Result<BundleVerdict, BundleFailure> {
        let chain = self.genesis.chain_id();
        let node = self.genesis.node;
        let mut headers = BTreeMap::new();
        for header in &self.blocks {
            let place = format!("block {}", header.header.height);
            if header.header.chain != chain {
                return Err(fail(
                    place,
                    Error::WrongChain {
                        expected: chain,
                        got: header.header.chain,
                    },
                ));
            }
            header.verify(&node).map_err(|e| fail(place, e))?;
            headers.insert(header.header.height, header);
        }
        let mut entries: Vec<&HistoryEntry> =
            self.registry.iter().chain(&self.transactions).collect();
        for entry in &entries {
            let id = entry.transaction.id();
            let place = format!("transaction {id}");
            if entry.receipt.tx != id {
                return Err(fail(place, Error::BadInclusionProof));
            }
            let header = headers
                .get(&entry.receipt.height)
                .ok_or_else(|| fail(place.clone(), Error::BadInclusionProof))?;
            entry.receipt.verify(header).map_err(|e| fail(place, e))?;
        }
        // Ledger order is block order, then position in the block: proven by the receipts just checked.
        entries.sort_by_key(|e| (e.receipt.height, e.receipt.index));
        let ordered: Vec<SignedTransaction> =
            entries.iter().map(|e| e.transaction.clone()).collect();
        let report = verify_chain(&self.genesis, &ordered, self.bill, Some(&self.document))
            .map_err(|ChainFailure { tx, error, .. }| fail(format!("transaction {tx}"), error))?;

        let statement = &self.statement;
        statement
            .verify(&node)
            .map_err(|e| fail("status statement", e))?;
        let last_height = entries.last().map_or(0, |e| e.receipt.height);
        if statement.statement.chain != chain
            || statement.statement.height < last_height
            || !statement.statement.matches(&report.bill)
        {
            return Err(fail("status statement", Error::StatementMismatch));
        }
        // Names of every registered party, from the registry the bundle carries (it is public).
        let names: BTreeMap<PartyId, String> = self
            .registry()
            .parties()
            .map(|p| (p.id, p.name().to_owned()))
            .collect();
        Ok(BundleVerdict {
            chain,
            bill: report.bill,
            height: statement.statement.height,
            time_ms: statement.statement.time_ms,
            transactions: report.bill_transactions,
            names,
        })
    }
}
