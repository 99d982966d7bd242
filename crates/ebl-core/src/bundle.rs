//! The bank's offline proof bundle: everything needed to verify a bill with no network and no trust in the
//! node, and its verification.
//!
//! A bundle carries the genesis, the whole registry history and the bill's history (each transaction with
//! its receipt), the node-signed headers of every block they sit in, and the node's signed status
//! statement (from chain format 7 certified by the finality quorum of member nodes, see
//! [`crate::statement`]). Verification refuses entries out of ledger order, checks every header signature against
//! the node key of a member at that height, every inclusion proof against its header, replays registry
//! and bill (with its lineage) in ledger order from the genesis at each block's time (every party
//! signature with `verify_strict`, every hash link, every rule, every expiry), checks the document against
//! the issued checksum, and checks that the statement, signed by as many member nodes as the chain
//! format at its height needs (bound, from format 7, to the registry the bundle replays), describes
//! exactly the replayed state. Whether the genesis is one to trust is the verifier's pin (`verify_pinned`).
//!
//! From chain format 8 (`ebl-bundle/4` with a [`RegistryProofs`]) a bundle does not carry the whole
//! registry: it carries the consortium's changes and the registry history of the parties its bill
//! relies on (every signer, every party named), and each of those parties' entries with its proof
//! against the registry root the statement's signers committed to (see [`crate::commitment`]). The
//! replay is the same, over that extract; then every party it relied on must replay to exactly its
//! proven entry (a rotation or recovery left out gives another key line), and the consortium to its
//! proven entry (a member's removal left out gives other members). Its size grows with the bill, not
//! with the consortium.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::HistoryEntry;
use crate::bill::Bill;
use crate::block::HeaderBinding;
use crate::certificate::Certificate;
use crate::commitment::{ConsortiumProof, PartyProof};
use crate::document::Document;
use crate::error::Error;
use crate::format::{self, check_chain_format, Encoded};
use crate::genesis::{Genesis, Member};
use crate::hash::Hash;
use crate::ledger::{Ledger, Signatures};
use crate::limits::BUNDLE_ENTRIES_MAX;
use crate::party::PartyId;
use crate::registry::Registry;
use crate::statement::{CertifiedStatement, StatementBinding};
use crate::transaction::{BillId, SignedTransaction};
use crate::verify::{
    verify_chain_extract, verify_chain_timed, ChainFailure, ChainReport, CustodyStep, EntryBlock,
    RecoveryNotice,
};

/// The bundle format name; a reader refuses others.
/// Version 2: each block comes with its finality certificate (the member nodes' signatures), where
/// version 1 had one node's signature. Version 3: the status statement carries a list of member
/// node signatures (`signatures`), where version 2 carried one (`signer`, `signature`); both read.
/// Version 4: `registry_proofs`, present for a statement of chain format 8, where `registry` is then an
/// extract (see the module documentation); without it, a bundle of version 4 is read as version 3.
/// Readers check it through [`format::BUNDLE`], which names the versions this release reads.
pub const BUNDLE_FORMAT: &str = "ebl-bundle/4";

/// A block's registry head before it: what its certificate's signatures cover from chain format 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadBefore {
    /// The block's height.
    pub height: u64,
    /// The registry head before the block.
    pub head: Hash,
}

/// What a bundle of chain format 8 proves its registry extract with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryProofs {
    /// The registry head after the statement's block.
    pub head: Hash,
    /// The registry's root then, which the statement's signatures cover.
    pub root: Hash,
    /// The consortium's entry, proven.
    pub consortium: ConsortiumProof,
    /// The entry of every party the bill relies on, proven.
    pub parties: Vec<PartyProof>,
    /// The registry head before each block the bundle holds (the registry transactions between are not
    /// in the extract): its certificate's signatures cover it, so a wrong one does not verify.
    pub heads_before: Vec<HeadBefore>,
}

impl RegistryProofs {
    /// At most [`BUNDLE_ENTRIES_MAX`] registry entries (the parties' with the consortium's) and as many
    /// heads before blocks: checked before anything is replayed or hashed.
    fn check_count(&self) -> Result<(), Error> {
        let entries = self.parties.len() + 1;
        for count in [entries, self.heads_before.len()] {
            if count > BUNDLE_ENTRIES_MAX {
                return Err(Error::TooManyRegistryProofs {
                    count,
                    max: BUNDLE_ENTRIES_MAX,
                });
            }
        }
        Ok(())
    }
}
/// Largest bundle file a reader accepts.
pub const BUNDLE_BYTES_MAX: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// A bill's verifiable history in one file: the genesis, the registry and bill transactions with
/// their receipts, the blocks' certificates and the node's statement of the bill now.
pub struct Bundle {
    /// `BUNDLE_FORMAT`.
    pub format: String,
    /// The chain's genesis, which a reader pins.
    pub genesis: Genesis,
    /// The bill.
    pub bill: BillId,
    /// Its transport document.
    pub document: Document,
    /// Every registry transaction up to the statement, with receipts.
    pub registry: Vec<HistoryEntry>,
    /// Every transaction of the bill's lineage, with receipts.
    pub transactions: Vec<HistoryEntry>,
    /// The finality certificate of every block an entry is in.
    pub blocks: Vec<Certificate>,
    /// The member nodes' statement of the bill at the bundle's height (one node's in `ebl-bundle/2`).
    #[serde(deserialize_with = "CertifiedStatement::deserialize_any")]
    pub statement: CertifiedStatement,
    /// From chain format 8: the proofs of the registry extract `registry` holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_proofs: Option<RegistryProofs>,
}

/// The two names a bundle's format is read from, whatever else its layout holds.
#[derive(Deserialize)]
struct FormatNames {
    format: String,
    genesis: GenesisFormat,
}

#[derive(Deserialize)]
struct GenesisFormat {
    version: u16,
}

/// Where a bundle failed and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {error}")]
pub struct BundleFailure {
    /// Where (`genesis`, `entry 3`, `statement`, ...).
    pub place: String,
    /// The broken rule.
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
    /// The chain id.
    pub chain: Hash,
    /// The bundle's own format (`ebl-bundle/2`), as it names itself.
    pub format: String,
    /// The chain format its genesis names (see [`crate::format`]).
    pub chain_format: u16,
    /// The format changes governance scheduled, as the bundle's registry holds them: a block at or
    /// past an activation's height is in that format.
    pub format_changes: Vec<crate::format::Activation>,
    /// The bill as the replay left it.
    pub bill: Bill,
    /// The height the statement was made at.
    pub height: u64,
    /// The statement's time (Unix milliseconds).
    pub time_ms: u64,
    /// The bill transactions replayed.
    pub transactions: usize,
    /// Registered names of every party the verdict mentions.
    pub names: BTreeMap<PartyId, String>,
    /// The consortium's members as of the bundle's last registry entry, and its threshold.
    pub members: Vec<Member>,
    /// The governance threshold then.
    pub threshold: u16,
    /// Which members' nodes signed each block the bundle relies on (at least the threshold of the
    /// registry at that height), by height.
    pub block_signers: BTreeMap<u64, Vec<String>>,
    /// Which member's node signed the status statement (the first, where several did).
    pub statement_signer: String,
    /// Every member whose node signed the status statement.
    pub statement_signers: Vec<String>,
    /// Recoveries behind signatures in the bill's chain: warnings for the bank.
    pub recoveries: Vec<RecoveryNotice>,
    /// The state after each of the lineage's bill transactions, in ledger order.
    pub custody: Vec<CustodyStep>,
}

/// A bundle's block certificates by height, and its entries, each proven included in its block.
type Included<'a> = (BTreeMap<u64, &'a Certificate>, Vec<&'a HistoryEntry>);

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
        let malformed = |e: serde_json::Error| {
            fail(
                "bundle",
                Error::MalformedJson {
                    reason: e.to_string(),
                },
            )
        };
        // The bundle's and its chain's formats are named before the rest is read: a bundle another
        // release wrote may not parse as this layout, and must be refused as a format, not as INVALID.
        let names: FormatNames = serde_json::from_slice(text).map_err(malformed)?;
        format::BUNDLE
            .check(&names.format)
            .map_err(|e| fail("bundle", e))?;
        check_chain_format(Encoded::Chain, names.genesis.version)
            .map_err(|e| fail("genesis", e))?;
        serde_json::from_slice(text).map_err(malformed)
    }

    /// The registry as of the bundle's last registry entry, rebuilt without checking signatures: call it
    /// after [`Bundle::verify`] succeeded, which checked them.
    pub fn registry(&self) -> Registry {
        let mut entries: Vec<&HistoryEntry> = self.registry.iter().collect();
        entries.sort_by_key(|e| (e.receipt.height, e.receipt.index));
        let mut ledger = self.start();
        for entry in entries {
            if entry.transaction.body.action.is_registry() {
                // A refused entry leaves the registry as it was; `verify` reports it.
                let _ = ledger.apply(&entry.transaction, Signatures::AlreadyVerified);
            }
        }
        ledger.registry().clone()
    }

    /// Verifies everything (see the module documentation), and that the bundle is from `chain`, the
    /// chain the verifier pinned: a bundle from any other chain is refused whatever it says of itself.
    pub fn verify_pinned(&self, chain: &Hash) -> Result<BundleVerdict, BundleFailure> {
        let got = self.genesis.chain_id();
        if got != *chain {
            return Err(fail(
                "genesis",
                Error::ChainMismatch {
                    expected: *chain,
                    got,
                },
            ));
        }
        self.verify()
    }

    /// Verifies everything; see the module documentation. This proves the bundle consistent with its
    /// own genesis, not that the genesis is one the verifier trusts: use [`Bundle::verify_pinned`].
    pub fn verify(&self) -> Result<BundleVerdict, BundleFailure> {
        let chain = self.genesis.chain_id();
        format::BUNDLE
            .check(&self.format)
            .map_err(|e| fail("bundle", e))?;
        self.genesis.check().map_err(|e| fail("genesis", e))?;
        if let Some(proofs) = &self.registry_proofs {
            proofs.check_count().map_err(|e| fail("registry", e))?;
        }
        // Entries come in ledger order; one out of place is refused, never sorted into place.
        for (list, what) in [
            (&self.registry, "registry"),
            (&self.transactions, "transactions"),
        ] {
            if let Some(pair) = list.windows(2).find(|w| {
                (w[0].receipt.height, w[0].receipt.index)
                    >= (w[1].receipt.height, w[1].receipt.index)
            }) {
                return Err(fail(
                    what,
                    Error::EntriesOutOfOrder {
                        place: format!("transaction {}", pair[1].transaction.id()),
                    },
                ));
            }
        }
        let (headers, mut entries) = self.included(chain)?;
        // Ledger order is block order, then position in the block: proven by the receipts just checked.
        entries.sort_by_key(|e| (e.receipt.height, e.receipt.index));
        let ordered: Vec<SignedTransaction> =
            entries.iter().map(|e| e.transaction.clone()).collect();
        let blocks: Vec<EntryBlock> = entries
            .iter()
            .map(|e| EntryBlock {
                height: e.receipt.height,
                time_ms: e.receipt.block_time_ms,
            })
            .collect();
        let replay = match &self.registry_proofs {
            None => verify_chain_timed,
            Some(_) => verify_chain_extract,
        };
        let report = replay(
            &self.genesis,
            &ordered,
            &blocks,
            self.bill,
            Some(&self.document),
        )
        .map_err(|ChainFailure { tx, error, .. }| fail(format!("transaction {tx}"), error))?;

        // Each block is signed by the node of a member at that height: the membership after the
        // registry entries of the blocks before it.
        let block_signers = self.block_signers(&headers)?;
        let statement = &self.statement;
        // Checked against the registry the bundle replays: from format 7 the signatures are bound to
        // the registry head they were made under, so a registry cut short does not verify; from
        // format 8 also to its root, against which the extract's entries are then proven.
        // An extract's entries are compared with their proofs first: an event left out is named as
        // such, before the statement its replay no longer matches.
        if let Some(proofs) = &self.registry_proofs {
            check_extract(&report, proofs, &self.registry).map_err(|e| fail("registry", e))?;
        }
        let statement_signers = match &self.registry_proofs {
            None => statement.check(&report.registry),
            Some(proofs) => self.check_committed(&report, proofs),
        }
        .map_err(|e| fail("status statement", e))?;
        let last_height = entries.last().map_or(0, |e| e.receipt.height);
        if statement.statement.chain != chain
            || statement.statement.height < last_height
            || !statement.statement.matches(&report.bill)
        {
            return Err(fail("status statement", Error::StatementMismatch));
        }
        // Names of every registered party, from the registry the bundle carries (it is public).
        let names: BTreeMap<PartyId, String> = report
            .registry
            .parties()
            .map(|p| (p.id, p.name().to_owned()))
            .collect();
        Ok(BundleVerdict {
            chain,
            format: self.format.clone(),
            chain_format: self.genesis.version,
            format_changes: report.registry.formats().activations().to_vec(),
            bill: report.bill,
            height: statement.statement.height,
            time_ms: statement.statement.time_ms,
            transactions: report.bill_transactions,
            names,
            members: report.registry.members().to_vec(),
            threshold: report.registry.threshold(),
            block_signers,
            statement_signer: statement_signers.first().cloned().unwrap_or_default(),
            statement_signers,
            recoveries: report.recoveries,
            custody: report.custody,
        })
    }

    /// The blocks' headers by height (each of this chain), and every entry, each proven included in
    /// the block its receipt names at that block's time.
    fn included(&self, chain: crate::ChainId) -> Result<Included<'_>, BundleFailure> {
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
            headers.insert(header.header.height, header);
        }
        let entries: Vec<&HistoryEntry> = self.registry.iter().chain(&self.transactions).collect();
        for entry in &entries {
            let id = entry.transaction.id();
            let place = format!("transaction {id}");
            if entry.receipt.tx != id {
                return Err(fail(place, Error::BadInclusionProof));
            }
            let header = headers
                .get(&entry.receipt.height)
                .ok_or_else(|| fail(place.clone(), Error::BadInclusionProof))?;
            if entry.receipt.block_time_ms != header.header.time_ms {
                return Err(fail(place, Error::BadInclusionProof));
            }
            entry
                .receipt
                .verify(&header.header)
                .map_err(|e| fail(place, e))?;
        }
        Ok((headers, entries))
    }

    /// Checks every block's certificate against the members and threshold of the registry at its
    /// height, and names the members whose nodes signed each.
    fn block_signers(
        &self,
        headers: &BTreeMap<u64, &Certificate>,
    ) -> Result<BTreeMap<u64, Vec<String>>, BundleFailure> {
        let mut registry: Vec<&HistoryEntry> = self
            .registry
            .iter()
            .filter(|e| e.transaction.body.action.is_registry())
            .collect();
        registry.sort_by_key(|e| (e.receipt.height, e.receipt.index));
        let mut ledger = self.start();
        let mut pending = registry.into_iter().peekable();
        let mut signers = BTreeMap::new();
        for (height, certificate) in headers {
            while let Some(entry) = pending.next_if(|e| e.receipt.height < *height) {
                // Replayed and checked in full by `verify_chain_timed`: here only membership, the
                // head and the formats matter.
                ledger.set_block(entry.receipt.height, entry.receipt.block_time_ms);
                let _ = ledger.apply(&entry.transaction, Signatures::AlreadyVerified);
            }
            let place = || format!("block {height}");
            let names = match &self.registry_proofs {
                None => certificate.check_final(ledger.registry()),
                Some(proofs) => {
                    // An extract's head is not the registry's: the bundle names the head before the
                    // block, and the signatures vouch for it.
                    let head = proofs
                        .heads_before
                        .iter()
                        .find(|h| h.height == *height)
                        .ok_or_else(|| fail(place(), Error::BadInclusionProof))?
                        .head;
                    let format = ledger.registry().formats().at(*height);
                    certificate
                        .check_final_bound(ledger.registry(), HeaderBinding::of(format, head))
                }
            }
            .map_err(|e| fail(place(), e))?;
            signers.insert(*height, names);
        }
        Ok(signers)
    }

    /// The ledger the bundle's registry is replayed on: the whole registry's, or an extract's.
    fn start(&self) -> Ledger {
        match self.registry_proofs {
            None => Ledger::new(self.genesis.clone()),
            Some(_) => Ledger::for_registry_extract(self.genesis.clone()),
        }
    }

    /// The statement's signatures, checked as bound to the head and root the proofs name: a statement
    /// of a chain format before 8 has no root, so an extract cannot stand on it.
    fn check_committed(
        &self,
        report: &ChainReport,
        proofs: &RegistryProofs,
    ) -> Result<Vec<String>, Error> {
        let height = self.statement.statement.height;
        let binding =
            StatementBinding::of(report.registry.formats().at(height), proofs.head, || {
                proofs.root
            });
        if !matches!(binding, StatementBinding::Committed { .. }) {
            return Err(Error::StatementMismatch);
        }
        self.statement.check_bound(&report.registry, binding)
    }
}

/// Every party the replay of an extract relied on (it holds no other) replays to exactly its entry
/// proven under the root, and the consortium to its own: an event left out of the extract gives
/// another entry, and nothing is taken on the strength of an entry the bundle does not prove.
fn check_extract(
    report: &ChainReport,
    proofs: &RegistryProofs,
    extract: &[HistoryEntry],
) -> Result<(), Error> {
    proofs.consortium.verify(&proofs.root)?;
    if proofs.consortium.consortium != report.registry.consortium() {
        return Err(Error::ConsortiumHistoryMismatch);
    }
    for replayed in report.registry.parties() {
        let proven = proofs
            .parties
            .iter()
            .find(|p| p.party.id == replayed.id)
            .ok_or(Error::PartyUnproven { party: replayed.id })?;
        proven.verify(&proofs.root)?;
        if proven.party != *replayed {
            let events = extract
                .iter()
                .filter(|e| e.transaction.body.action.registry_party() == Some(replayed.id))
                .count();
            return Err(Error::PartyHistoryMismatch {
                party: replayed.id,
                differs: differs(replayed, &proven.party),
                events,
            });
        }
    }
    Ok(())
}

/// What of a party's entry the replay got otherwise than the proof: named for the bank.
fn differs(
    replayed: &crate::party::Party,
    proven: &crate::party::Party,
) -> crate::error::EntryPart {
    use crate::error::EntryPart;
    if replayed.key != proven.key || replayed.retired_keys != proven.retired_keys {
        EntryPart::Keys
    } else if replayed.recoveries != proven.recoveries {
        EntryPart::Recoveries
    } else if replayed.revoked != proven.revoked {
        EntryPart::Revocation
    } else {
        EntryPart::Profile
    }
}
