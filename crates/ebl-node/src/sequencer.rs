//! Ordering and durability: one thread takes verified transactions in arrival order, applies them to the
//! ledger, groups the accepted ones into a signed block, makes the block durable, and only then answers.
//!
//! Ordering is a deterministic apply of an ordered log (`ebl_core::Ledger::apply` over the block's
//! transactions in order), separate from the IO: [`order_block`] is pure, so the same log can later come
//! from a replicated consensus log (openraft) and be applied by every organisation's node unchanged.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ebl_core::api::{ErrorBody, Receipt, SubmitOutcome};
use ebl_core::{
    Action, BlockHeader, Error, Ledger, MerkleTree, Signatures, SignedTransaction, SigningKey, TxId,
};
use ebl_store::{BlockWrite, Kv, LedgerStore, StoreError, StoredBlock};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use crate::limits::{BLOCK_TRANSACTIONS_MAX, BLOCK_WAIT_MS};
use crate::metrics::Metrics;
use crate::state::Published;

/// A transaction that passed the stateless checks (structure, signatures), or the error it failed with.
pub type Candidate = Result<SignedTransaction, (TxId, Error)>;

/// One request's transactions: ordered consecutively, answered together.
#[derive(Debug)]
pub struct Submission {
    pub candidates: Vec<Candidate>,
    pub reply: oneshot::Sender<Vec<SubmitOutcome>>,
    /// Queue slots this submission holds; released when it is answered.
    pub permit: OwnedSemaphorePermit,
}

/// The outcome of ordering one block's worth of candidates.
#[derive(Debug)]
pub struct Ordered {
    /// Accepted transactions in block order.
    pub accepted: Vec<SignedTransaction>,
    /// For every candidate, in order: its index in `accepted`, or why it was refused.
    pub verdicts: Vec<Result<usize, (TxId, Error)>>,
}

/// Applies candidates in order to the ledger. Pure: the same ledger and candidates give the same result.
pub fn order_block(ledger: &mut Ledger, candidates: Vec<Candidate>) -> Ordered {
    let mut accepted = Vec::new();
    let mut verdicts = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        match candidate {
            Err(refused) => verdicts.push(Err(refused)),
            Ok(tx) => match ledger.apply(&tx, Signatures::AlreadyVerified) {
                Ok(_) => {
                    verdicts.push(Ok(accepted.len()));
                    accepted.push(tx);
                }
                Err(e) => verdicts.push(Err((tx.id(), e))),
            },
        }
    }
    Ordered { accepted, verdicts }
}

/// The sequencer's own state: the working ledger, the store, the node key.
pub struct Sequencer<K: Kv> {
    pub(crate) ledger: Ledger,
    pub(crate) store: Arc<LedgerStore<K>>,
    pub(crate) node_key: SigningKey,
    pub(crate) published: Arc<RwLock<Published>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) head: Option<StoredBlock>,
}

impl<K: Kv> std::fmt::Debug for Sequencer<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("height", &self.height())
            .finish()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl<K: Kv> Sequencer<K> {
    fn height(&self) -> u64 {
        self.head.as_ref().map_or(0, |b| b.header.header.height)
    }

    /// Runs until every sender is gone, then returns after the last block is durable and answered.
    /// A storage failure stops the sequencer: memory would otherwise run ahead of the disk.
    pub fn run(mut self, mut rx: mpsc::Receiver<Submission>) -> Result<(), StoreError> {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            let mut count = batch[0].candidates.len();
            let deadline = Instant::now() + Duration::from_millis(BLOCK_WAIT_MS);
            // Group commit: keep taking submissions until the block is full or the wait is over.
            while count < BLOCK_TRANSACTIONS_MAX {
                match rx.try_recv() {
                    Ok(s) => {
                        count += s.candidates.len();
                        batch.push(s);
                    }
                    Err(mpsc::error::TryRecvError::Empty) => {
                        if Instant::now() >= deadline {
                            break;
                        }
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            }
            self.commit(batch)?;
        }
        Ok(())
    }

    fn commit(&mut self, batch: Vec<Submission>) -> Result<(), StoreError> {
        let started = Instant::now();
        // Duplicates of stored transactions are answered with their original receipt and not re-applied;
        // a duplicate inside this block is refused by the stale-head rule when it is applied again.
        let mut seen = HashSet::new();
        let mut candidates = Vec::new();
        let mut shapes = Vec::with_capacity(batch.len());
        let mut duplicates = Vec::new();
        for submission in &batch {
            let mut shape = Vec::with_capacity(submission.candidates.len());
            for candidate in &submission.candidates {
                let id = match candidate {
                    Ok(tx) => tx.id(),
                    Err((id, _)) => *id,
                };
                if candidate.is_ok() && !seen.contains(&id) {
                    if let Some(receipt) = self.stored_receipt(&id)? {
                        shape.push(Slot::Duplicate(duplicates.len()));
                        duplicates.push(SubmitOutcome::Duplicate { id, receipt });
                        continue;
                    }
                }
                seen.insert(id);
                shape.push(Slot::Ordered(candidates.len()));
                candidates.push(candidate.clone());
            }
            shapes.push(shape);
        }

        let ordered = order_block(&mut self.ledger, candidates);
        let placed = if ordered.accepted.is_empty() {
            None
        } else {
            Some(self.write_block(&ordered)?)
        };
        let outcomes = outcomes(&ordered, placed.as_ref());
        let elapsed = started.elapsed();
        self.metrics
            .block_committed(ordered.accepted.len(), elapsed);
        for outcome in &outcomes {
            if let SubmitOutcome::Rejected { error, .. } = outcome {
                self.metrics.rejected(&error.code);
            }
        }
        for (submission, shape) in batch.into_iter().zip(shapes) {
            let answers = shape
                .into_iter()
                .map(|slot| match slot {
                    Slot::Ordered(i) => outcomes[i].clone(),
                    Slot::Duplicate(i) => duplicates[i].clone(),
                })
                .collect();
            // The client may have gone away; its transactions are durable all the same.
            let _ = submission.reply.send(answers);
            drop(submission.permit);
        }
        Ok(())
    }

    /// Seals the accepted transactions into a block, writes it, syncs it, and publishes the new state.
    fn write_block(&mut self, ordered: &Ordered) -> Result<StoredBlock, StoreError> {
        let tx_ids: Vec<TxId> = ordered.accepted.iter().map(SignedTransaction::id).collect();
        let (height, prev, parent_time) = match &self.head {
            Some(b) => (
                b.header.header.height + 1,
                b.header.header.hash(),
                b.header.header.time_ms,
            ),
            None => (1, self.ledger.chain_id(), self.ledger.genesis().time_ms),
        };
        let header = BlockHeader {
            chain: self.ledger.chain_id(),
            height,
            prev,
            tx_root: MerkleTree::new(&tx_ids).root(),
            tx_count: tx_ids.len() as u32,
            // The node's clock orders; it never runs backwards across blocks.
            time_ms: now_ms().max(parent_time),
        }
        .sign(&self.node_key);
        let block = StoredBlock {
            header,
            tx_ids: tx_ids.clone(),
        };
        let write = BlockWrite {
            block: block.clone(),
            transactions: ordered.accepted.clone(),
            bills: touched_bills(&self.ledger, &ordered.accepted),
            parties: touched_parties(&self.ledger, &ordered.accepted),
            registry_head: self.ledger.registry().head(),
        };
        self.store.write_block(&write)?;
        let sync_started = Instant::now();
        self.store.sync()?;
        self.metrics.synced(sync_started.elapsed());
        // Durable: now readers may see it, and clients may be told.
        self.publish(&ordered.accepted, &block);
        self.head = Some(block.clone());
        Ok(block)
    }

    fn publish(&self, accepted: &[SignedTransaction], block: &StoredBlock) {
        let mut published = match self.published.write() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        for tx in accepted {
            // The same transactions in the same order, already accepted once on the working ledger.
            if let Err(e) = published.ledger.apply(tx, Signatures::AlreadyVerified) {
                tracing::error!(error = %e, "published state diverged from the working ledger");
            }
        }
        published.head = Some(block.header.clone());
        published.transactions += accepted.len() as u64;
    }

    fn stored_receipt(&self, id: &TxId) -> Result<Option<Receipt>, StoreError> {
        let Some(stored) = self.store.transaction(id)? else {
            return Ok(None);
        };
        let block = self
            .store
            .block(stored.height)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: stored.height.to_string(),
                reason: "a stored transaction names a missing block".into(),
            })?;
        receipt_in(&block, id).map(Some)
    }
}

/// A receipt for `id` in a stored block.
pub fn receipt_in(block: &StoredBlock, id: &TxId) -> Result<Receipt, StoreError> {
    let index = block
        .tx_ids
        .iter()
        .position(|t| t == id)
        .ok_or_else(|| StoreError::Corrupt {
            what: "block",
            key: block.header.header.height.to_string(),
            reason: format!("block does not list transaction {id}"),
        })?;
    receipt_at(block, &MerkleTree::new(&block.tx_ids), index)
}

fn receipt_at(block: &StoredBlock, tree: &MerkleTree, index: usize) -> Result<Receipt, StoreError> {
    let header = &block.header.header;
    let proof = tree.proof(index).ok_or_else(|| StoreError::Corrupt {
        what: "block",
        key: header.height.to_string(),
        reason: "inclusion proof out of range".into(),
    })?;
    Ok(Receipt {
        tx: block.tx_ids[index],
        height: header.height,
        index: index as u32,
        block: header.hash(),
        block_time_ms: header.time_ms,
        proof,
    })
}

enum Slot {
    Ordered(usize),
    Duplicate(usize),
}

/// Each candidate's outcome, given the block its accepted transactions went into.
fn outcomes(ordered: &Ordered, block: Option<&StoredBlock>) -> Vec<SubmitOutcome> {
    let placed = block.map(|b| (b, MerkleTree::new(&b.tx_ids)));
    ordered
        .verdicts
        .iter()
        .map(|verdict| match (verdict, &placed) {
            (Ok(i), Some((block, tree))) => {
                let id = block.tx_ids[*i];
                match receipt_at(block, tree, *i) {
                    Ok(receipt) => SubmitOutcome::Accepted { id, receipt },
                    Err(e) => SubmitOutcome::Rejected {
                        id,
                        error: ErrorBody {
                            code: e.code().into(),
                            message: e.to_string(),
                        },
                    },
                }
            }
            (Ok(i), None) => SubmitOutcome::Rejected {
                id: ordered.accepted[*i].id(),
                error: ErrorBody {
                    code: "internal".into(),
                    message: "accepted without a block".into(),
                },
            },
            (Err((id, e)), _) => SubmitOutcome::Rejected {
                id: *id,
                error: ErrorBody::from(e),
            },
        })
        .collect()
}

fn touched_bills(ledger: &Ledger, accepted: &[SignedTransaction]) -> Vec<ebl_core::Bill> {
    let mut ids = Vec::new();
    for tx in accepted {
        match &tx.body.action {
            Action::Issue { replaces, .. } => {
                ids.push(tx.id());
                ids.extend(replaces);
            }
            a => ids.extend(a.bill()),
        }
    }
    ids.sort();
    ids.dedup();
    ids.iter()
        .filter_map(|id| ledger.bill(id).cloned())
        .collect()
}

fn touched_parties(ledger: &Ledger, accepted: &[SignedTransaction]) -> Vec<ebl_core::Party> {
    let mut ids = Vec::new();
    for tx in accepted {
        match &tx.body.action {
            Action::RegisterParty { key, .. } => ids.push(ebl_core::PartyId::from(*key)),
            Action::RotateKey { party, .. } | Action::RevokeParty { party } => ids.push(*party),
            _ => {}
        }
    }
    ids.sort();
    ids.dedup();
    ids.iter()
        .filter_map(|id| ledger.registry().party(*id).cloned())
        .collect()
}
