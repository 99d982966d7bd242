//! The bank's check: replay a bill's history and the registry from the genesis, trusting nobody.

use serde::Serialize;

use crate::bill::Bill;
use crate::document::Document;
use crate::error::Error;
use crate::genesis::Genesis;
use crate::keys::PartyKey;
use crate::ledger::{Ledger, Signatures};
use crate::party::PartyId;
use crate::transaction::{Action, BillId, SignedTransaction, TxId};

/// Where and why a chain failed to verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {position} ({tx}) fails: {error}")]
pub struct ChainFailure {
    /// Index into the entries given, counting from 0.
    pub position: usize,
    /// The entry's transaction.
    pub tx: TxId,
    /// The broken rule.
    pub error: Error,
}

/// A party that acted in the bill's chain with a key governance gave it after a loss: the bank should
/// know that the admins named here, not the party's original key, stand behind what followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecoveryNotice {
    /// The recovered party.
    pub party: PartyId,
    /// The `RECOVER_KEY` transaction.
    pub recovery: TxId,
    /// The member admin keys that signed it.
    pub admins: Vec<PartyKey>,
    /// The first transaction of the bill's chain the recovered party signed afterwards.
    pub acted: TxId,
}

/// One bill transaction of a verified chain and the state it left its bill in, as the replay computed
/// it: what a custody timeline draws, with no second reading of the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustodyStep {
    /// The transaction.
    pub tx: TxId,
    /// The bill acted on, after the transaction (for a replacement's `ISSUE`, the new bill).
    pub bill: Bill,
}

/// A verified bill: its state at the head, and how much history backs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// The bill at the head, as the replay left it.
    pub bill: Bill,
    /// Every bill transaction of the lineage in ledger order, with the state after it.
    pub custody: Vec<CustodyStep>,
    /// How many registry transactions were replayed.
    pub registry_transactions: usize,
    /// How many bill transactions were replayed.
    pub bill_transactions: usize,
    /// Recoveries behind signatures in the chain, one per recovery.
    pub recoveries: Vec<RecoveryNotice>,
    /// The registry and consortium after the last entry.
    #[serde(skip)]
    pub registry: crate::registry::Registry,
}

/// Verifies a bill from the genesis: `entries` are the registry's transactions and the bill's own, in ledger
/// order (the order of their blocks). Every signature is checked with `verify_strict` against the key
/// registered at that point, every hash link and every rule, from `ISSUE` to the head. If `document` is
/// given, its checksum must be the issued one. A replacement bill's entries include the history of the
/// void bill it replaces (and of that bill's predecessors).
///
/// This replay knows no block times, so it cannot check expiries; [`verify_chain_timed`] can.
pub fn verify_chain(
    genesis: &Genesis,
    entries: &[SignedTransaction],
    bill: BillId,
    document: Option<&Document>,
) -> Result<ChainReport, ChainFailure> {
    verify_chain_timed(genesis, entries, &[], bill, document)
}

/// Where an entry of a chain was ordered: its block's height and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryBlock {
    /// The block's height.
    pub height: u64,
    /// The block's time (Unix milliseconds).
    pub time_ms: u64,
}

/// [`verify_chain`] with each entry's block (`blocks[i]` for `entries[i]`), so that a transaction
/// ordered after its `valid_until_ms` is refused as the node would have, and a format change scheduled
/// at a height already reached too. An empty `blocks` checks neither.
pub fn verify_chain_timed(
    genesis: &Genesis,
    entries: &[SignedTransaction],
    blocks: &[EntryBlock],
    bill: BillId,
    document: Option<&Document>,
) -> Result<ChainReport, ChainFailure> {
    replay(
        Ledger::new(genesis.clone()),
        entries,
        blocks,
        bill,
        document,
    )
}

/// [`verify_chain_timed`] over an extract of the registry (a bundle's from chain format 8): the
/// consortium's changes and the registry history of the parties the bill needs, not every registry
/// transaction, so registry transactions are not linked to one another (see
/// [`Ledger::for_registry_extract`]). The report's registry holds only those parties: the caller checks
/// each against its proven entry.
pub fn verify_chain_extract(
    genesis: &Genesis,
    entries: &[SignedTransaction],
    blocks: &[EntryBlock],
    bill: BillId,
    document: Option<&Document>,
) -> Result<ChainReport, ChainFailure> {
    replay(
        Ledger::for_registry_extract(genesis.clone()),
        entries,
        blocks,
        bill,
        document,
    )
}

fn replay(
    mut ledger: Ledger,
    entries: &[SignedTransaction],
    blocks: &[EntryBlock],
    bill: BillId,
    document: Option<&Document>,
) -> Result<ChainReport, ChainFailure> {
    let lineage = lineage(entries, bill);
    let mut registry_transactions = 0;
    let mut bill_transactions = 0;
    let mut recoveries: Vec<RecoveryNotice> = Vec::new();
    let mut custody: Vec<CustodyStep> = Vec::new();
    for (position, tx) in entries.iter().enumerate() {
        if let Some(block) = blocks.get(position) {
            ledger.set_block(block.height, block.time_ms);
        }
        let id = tx.id();
        let fail = |error| ChainFailure {
            position,
            tx: id,
            error,
        };
        let action = &tx.body.action;
        let concerns_bill = match action.bill() {
            Some(b) => lineage.contains(&b),
            // The bill's own ISSUE, a predecessor's, or the ISSUE of the replacement that voided it.
            None => {
                action.is_registry()
                    || lineage.contains(&id)
                    || matches!(action, Action::Issue { replaces: Some(r), .. } if r.bills.iter().any(|b| lineage.contains(b)))
            }
        };
        if !concerns_bill {
            return Err(fail(Error::ForeignTransaction {
                bill: action.bill().unwrap_or(id),
            }));
        }
        if !action.is_registry() {
            // A signer whose party was recovered signs with a key governance gave it.
            for s in &tx.signatures {
                let Some(party) = ledger.registry().by_key(&s.signer) else {
                    continue;
                };
                if let Some(r) = party.recoveries.last() {
                    if !recoveries.iter().any(|n| n.recovery == r.tx) {
                        recoveries.push(RecoveryNotice {
                            party: party.id,
                            recovery: r.tx,
                            admins: r.admins.clone(),
                            acted: id,
                        });
                    }
                }
            }
        }
        ledger.apply(tx, Signatures::Verify).map_err(fail)?;
        if action.is_registry() {
            registry_transactions += 1;
        } else {
            if action.bill() == Some(bill) || id == bill {
                bill_transactions += 1;
            }
            let acted_on = action.bill().unwrap_or(id);
            if let Some(state) = ledger.bill(&acted_on) {
                custody.push(CustodyStep {
                    tx: id,
                    bill: state.clone(),
                });
            }
        }
    }
    let Some(state) = ledger.bill(&bill).cloned() else {
        return Err(ChainFailure {
            position: entries.len(),
            tx: bill,
            error: Error::BillNotInChain { bill },
        });
    };
    if let Some(doc) = document {
        if doc.checksum() != state.document_checksum {
            return Err(ChainFailure {
                position: 0,
                tx: bill,
                error: Error::DocumentChecksumMismatch {
                    expected: state.document_checksum,
                    got: doc.checksum(),
                },
            });
        }
    }
    Ok(ChainReport {
        bill: state,
        custody,
        registry_transactions,
        bill_transactions,
        recoveries,
        registry: ledger.registry().clone(),
    })
}

/// The bill and the bills it replaced, following `ISSUE.replaces` back through the entries (a
/// combine names several): a replacement's history starts with the void bills it names, whose histories
/// must come with it. A void bill's own replacements (and their siblings) enter by naming it.
fn lineage(entries: &[SignedTransaction], bill: BillId) -> Vec<BillId> {
    let mut lineage = vec![bill];
    let mut next = 0;
    while let Some(current) = lineage.get(next).copied() {
        next += 1;
        for tx in entries {
            if let Action::Issue {
                replaces: Some(r), ..
            } = &tx.body.action
            {
                if tx.id() == current {
                    for previous in &r.bills {
                        if !lineage.contains(previous) {
                            lineage.push(*previous);
                        }
                    }
                }
            }
        }
    }
    lineage
}
