//! The bank's check: replay a bill's history and the registry from the genesis, trusting nobody.

use serde::Serialize;

use crate::bill::Bill;
use crate::document::Document;
use crate::error::Error;
use crate::ledger::{Ledger, Signatures};
use crate::transaction::{Action, BillId, Genesis, SignedTransaction, TxId};

/// Where and why a chain failed to verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {position} ({tx}) fails: {error}")]
pub struct ChainFailure {
    /// Index into the entries given, counting from 0.
    pub position: usize,
    pub tx: TxId,
    pub error: Error,
}

/// A verified bill: its state at the head, and how much history backs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    pub bill: Bill,
    pub registry_transactions: usize,
    pub bill_transactions: usize,
}

/// Verifies a bill from the genesis: `entries` are the registry's transactions and the bill's own, in ledger
/// order (the order of their blocks). Every signature is checked with `verify_strict` against the key
/// registered at that point, every hash link and every rule, from `ISSUE` to the head. If `document` is
/// given, its checksum must be the issued one. A replacement bill's entries include the history of the
/// void bill it replaces (and of that bill's predecessors).
pub fn verify_chain(
    genesis: &Genesis,
    entries: &[SignedTransaction],
    bill: BillId,
    document: Option<&Document>,
) -> Result<ChainReport, ChainFailure> {
    let lineage = lineage(entries, bill);
    let mut ledger = Ledger::new(genesis.clone());
    let mut registry_transactions = 0;
    let mut bill_transactions = 0;
    for (position, tx) in entries.iter().enumerate() {
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
                    || matches!(action, Action::Issue { replaces: Some(r), .. } if lineage.contains(r))
            }
        };
        if !concerns_bill {
            return Err(fail(Error::ForeignTransaction {
                bill: action.bill().unwrap_or(id),
            }));
        }
        ledger.apply(tx, Signatures::Verify).map_err(fail)?;
        if action.is_registry() {
            registry_transactions += 1;
        } else if action.bill() == Some(bill) || id == bill {
            bill_transactions += 1;
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
        registry_transactions,
        bill_transactions,
    })
}

/// The bill and the bills it replaced, following `ISSUE.replaces` back through the entries: a replacement's
/// history starts with the voided bill it names, whose history must come with it.
fn lineage(entries: &[SignedTransaction], bill: BillId) -> Vec<BillId> {
    let mut lineage = vec![bill];
    let mut current = bill;
    while let Some(previous) = entries.iter().find_map(|tx| match &tx.body.action {
        Action::Issue {
            replaces: Some(r), ..
        } if tx.id() == current => Some(*r),
        _ => None,
    }) {
        if lineage.contains(&previous) {
            break;
        }
        lineage.push(previous);
        current = previous;
    }
    lineage
}
