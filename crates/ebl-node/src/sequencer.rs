//! Ordering and durability: one thread takes verified transactions in arrival order, applies them to the
//! ledger, groups the accepted ones into a signed block and writes it; a second thread makes each written
//! block durable, in order, and only then publishes it to readers and answers its clients. The two
//! overlap: while block n is being synced, block n+1 is ordered and written (at most one block waits).
//!
//! Ordering is a deterministic apply of an ordered log (`ebl_core::Ledger::apply` over the block's
//! transactions in order), separate from the IO: [`order_block`] is pure, so the same log can later come
//! from a replicated consensus log (openraft) and be applied by every organisation's node unchanged.

use std::collections::BTreeSet;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ebl_core::api::{ErrorBody, Receipt, SubmitOutcome};
use ebl_core::{
    Applied, BillId, BlockHeader, Error, Hash, Ledger, MerkleTree, PartyId, Registry, Signatures,
    SignedBlockHeader, SignedTransaction, SigningKey, TxId,
};
use ebl_store::{BlockWrite, Checkpoint, Kv, LedgerStore, StoreError, StoredBlock};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use crate::limits::{BLOCK_TRANSACTIONS_MAX, BLOCK_WAIT_MS};
use crate::metrics::Metrics;
use crate::state::Published;

/// A transaction that passed the stateless checks (structure, signatures), with its id, or the error it
/// failed with.
pub type Candidate = Result<(TxId, SignedTransaction), (TxId, Error)>;

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
    pub ids: Vec<TxId>,
    /// What each accepted transaction changed, in block order.
    pub applied: Vec<Applied>,
    /// For every candidate, in order: its index in `accepted`, or why it was refused.
    pub verdicts: Vec<Result<usize, (TxId, Error)>>,
}

/// Applies candidates in order to the ledger. Pure: the same ledger and candidates give the same result.
pub fn order_block(ledger: &mut Ledger, candidates: Vec<Candidate>) -> Ordered {
    let mut ordered = Ordered {
        accepted: Vec::new(),
        ids: Vec::new(),
        applied: Vec::new(),
        verdicts: Vec::with_capacity(candidates.len()),
    };
    for candidate in candidates {
        match candidate {
            Err(refused) => ordered.verdicts.push(Err(refused)),
            Ok((id, tx)) => match ledger.apply_identified(&tx, id, Signatures::AlreadyVerified) {
                Ok(applied) => {
                    ordered.verdicts.push(Ok(ordered.accepted.len()));
                    ordered.accepted.push(tx);
                    ordered.ids.push(id);
                    ordered.applied.push(applied);
                }
                Err(e) => ordered.verdicts.push(Err((id, e))),
            },
        }
    }
    ordered
}

/// Groups work for one block: `first`, then what `next` yields while the block has room. A block never
/// holds more than `max` (inclusion proofs for larger blocks would not verify); the item that would
/// overflow it is returned, to start the next block. `next` returns `None` when nothing more should wait.
fn fill_block<T>(
    first: T,
    size: impl Fn(&T) -> usize,
    max: usize,
    mut next: impl FnMut() -> Option<T>,
) -> (Vec<T>, Option<T>) {
    let mut count = size(&first);
    let mut batch = vec![first];
    while count < max {
        let Some(item) = next() else { break };
        if count + size(&item) > max {
            return (batch, Some(item));
        }
        count += size(&item);
        batch.push(item);
    }
    (batch, None)
}

/// The sequencer's own state: the working ledger, the store, the node key.
pub struct Sequencer<K: Kv> {
    pub(crate) ledger: Ledger,
    pub(crate) store: Arc<LedgerStore<K>>,
    pub(crate) node_key: SigningKey,
    pub(crate) published: Arc<RwLock<Published>>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) head: Option<StoredBlock>,
    /// Bills and parties changed since the last state checkpoint, and how many transactions ago it was.
    pub(crate) dirty_bills: BTreeSet<BillId>,
    pub(crate) dirty_parties: BTreeSet<PartyId>,
    pub(crate) since_checkpoint: usize,
    pub(crate) checkpoint_transactions: usize,
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
        // One written block may wait while the one before it is synced; more would only add latency.
        let (to_durable, written) = std_mpsc::sync_channel::<Written>(1);
        let stage = Durability {
            store: self.store.clone(),
            published: self.published.clone(),
            metrics: self.metrics.clone(),
        };
        let durability = std::thread::Builder::new()
            .name("durability".into())
            .spawn(move || stage.run(written))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let ordered = self.order_loop(&mut rx, &to_durable);
        // Drain: every written block is made durable and answered before the stop goes on.
        drop(to_durable);
        let durable = durability
            .join()
            .map_err(|_| StoreError::Io("the durability thread panicked".into()))?;
        ordered?;
        durable?;
        // A graceful stop: checkpoint, so the next start replays nothing.
        if !self.dirty_bills.is_empty() || !self.dirty_parties.is_empty() {
            let (bills, parties) = self.dirty_state();
            let checkpoint = Checkpoint {
                height: self.height(),
                bills: &bills,
                parties: &parties,
                registry: self.ledger.registry().state(),
            };
            self.store.write_checkpoint(&checkpoint)?;
            self.store.sync()?;
        }
        Ok(())
    }

    /// Orders and writes blocks until the submissions end, handing each to the durability stage. Stops
    /// at the first storage failure, here or there (the stage hangs up).
    fn order_loop(
        &mut self,
        rx: &mut mpsc::Receiver<Submission>,
        to_durable: &std_mpsc::SyncSender<Written>,
    ) -> Result<(), StoreError> {
        // A submission that did not fit the last block starts the next one.
        let mut carry: Option<Submission> = None;
        loop {
            let first = match carry.take() {
                Some(s) => s,
                None => match rx.blocking_recv() {
                    Some(s) => s,
                    None => return Ok(()),
                },
            };
            let deadline = Instant::now() + Duration::from_millis(BLOCK_WAIT_MS);
            // Group commit: keep taking submissions until the block is full or the wait is over.
            let (batch, rest) = fill_block(
                first,
                |s| s.candidates.len(),
                BLOCK_TRANSACTIONS_MAX,
                || loop {
                    match rx.try_recv() {
                        Ok(s) => return Some(s),
                        Err(mpsc::error::TryRecvError::Empty) if Instant::now() < deadline => {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        Err(_) => return None,
                    }
                },
            );
            carry = rest;
            let written = self.commit(batch)?;
            if to_durable.send(written).is_err() {
                // The stage stopped on a storage failure, which `run` reports.
                return Ok(());
            }
        }
    }

    /// The current state of every bill and party changed since the last checkpoint.
    fn dirty_state(&mut self) -> (Vec<ebl_core::Bill>, Vec<ebl_core::Party>) {
        let bills = std::mem::take(&mut self.dirty_bills)
            .iter()
            .filter_map(|id| self.ledger.bill(id).cloned())
            .collect();
        let parties = std::mem::take(&mut self.dirty_parties)
            .iter()
            .filter_map(|id| self.ledger.registry().party(*id).cloned())
            .collect();
        self.since_checkpoint = 0;
        (bills, parties)
    }

    /// The time of the block before the next one (the genesis's before the first).
    fn parent_time(&self) -> u64 {
        match &self.head {
            Some(b) => b.header.header.time_ms,
            None => self.ledger.genesis().time_ms,
        }
    }

    /// Orders a batch and writes its block (if anything was accepted); what is left to do is the
    /// durability stage's.
    fn commit(&mut self, mut batch: Vec<Submission>) -> Result<Written, StoreError> {
        let started = Instant::now();
        // The candidates move into ordering (no copy); each submission keeps its count, to be answered.
        let mut candidates = Vec::new();
        let mut sizes = Vec::with_capacity(batch.len());
        for submission in &mut batch {
            sizes.push(submission.candidates.len());
            candidates.append(&mut submission.candidates);
        }
        // The block's time is chosen before ordering: expiries are checked against it.
        let time_ms = now_ms().max(self.parent_time());
        self.ledger.set_block_time(time_ms);
        let ordered = order_block(&mut self.ledger, candidates);
        self.metrics.phase("apply", started.elapsed());
        let block = if ordered.accepted.is_empty() {
            None
        } else {
            Some(self.write_block(&ordered, time_ms)?)
        };
        let outcomes = self.outcomes(&ordered, block.as_ref().map(|(b, _)| b))?;
        Ok(Written {
            block: block.map(|(_, d)| d),
            accepted: ordered.accepted.len(),
            started,
            outcomes,
            batch,
            sizes,
        })
    }

    /// Seals the accepted transactions into a block and writes it (its transactions durably to the log;
    /// the rest not yet synced). Returns the block and what publishing it will take.
    fn write_block(
        &mut self,
        ordered: &Ordered,
        time_ms: u64,
    ) -> Result<(StoredBlock, ToPublish), StoreError> {
        let started = Instant::now();
        let (height, prev) = match &self.head {
            Some(b) => (b.header.header.height + 1, b.header.header.hash()),
            None => (1, self.ledger.chain_id()),
        };
        let header = BlockHeader {
            chain: self.ledger.chain_id(),
            height,
            prev,
            tx_root: MerkleTree::new(&ordered.ids).root(),
            tx_count: ordered.ids.len() as u32,
            // The node's clock orders; it never runs backwards across blocks (see `parent_time`).
            time_ms,
        }
        .sign(&self.node_key);
        let block = StoredBlock {
            header,
            tx_ids: ordered.ids.clone(),
        };
        let bills = touched_bills(&self.ledger, &ordered.applied);
        let parties = touched_parties(&self.ledger, &ordered.applied);
        self.dirty_bills.extend(bills.iter().map(|b| b.id));
        self.dirty_parties.extend(parties.iter().map(|p| p.id));
        self.since_checkpoint += ordered.accepted.len();
        let due =
            (self.since_checkpoint >= self.checkpoint_transactions).then(|| self.dirty_state());
        let write = BlockWrite {
            block: &block,
            transactions: &ordered.accepted,
            checkpoint: due.as_ref().map(|(bills, parties)| Checkpoint {
                height,
                bills,
                parties,
                registry: self.ledger.registry().state(),
            }),
        };
        self.store.write_block(&write)?;
        self.metrics.phase("write", started.elapsed());
        let publish = ToPublish {
            height,
            hash: block.header.header.hash(),
            header: block.header.clone(),
            bills,
            // Any registry change: parties, or members and threshold (which change no party).
            registry: ordered
                .accepted
                .iter()
                .any(|tx| tx.body.action.is_registry())
                .then(|| self.ledger.registry().clone()),
        };
        self.head = Some(block.clone());
        Ok((block, publish))
    }

    /// Each candidate's outcome. A refused transaction that is already on the ledger, earlier or in this
    /// very block, is a resubmission: it gets the original receipt. Only refusals pay the lookup, since a
    /// stored transaction can never apply again (its head has moved).
    fn outcomes(
        &self,
        ordered: &Ordered,
        block: Option<&StoredBlock>,
    ) -> Result<Vec<SubmitOutcome>, StoreError> {
        let tree = block.map(|b| MerkleTree::new(&b.tx_ids));
        let in_block: std::collections::HashMap<TxId, usize> = ordered
            .ids
            .iter()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect();
        let mut out = Vec::with_capacity(ordered.verdicts.len());
        for verdict in &ordered.verdicts {
            let outcome = match (verdict, block.zip(tree.as_ref())) {
                (Ok(i), Some((block, tree))) => SubmitOutcome::Accepted {
                    id: ordered.ids[*i],
                    receipt: receipt_at(block, tree, *i)?,
                },
                (Ok(i), None) => SubmitOutcome::Rejected {
                    id: ordered.ids[*i],
                    error: ErrorBody {
                        code: "internal".into(),
                        message: "accepted without a block".into(),
                    },
                },
                (Err((id, e)), placed) => {
                    let earlier = match (in_block.get(id), placed) {
                        (Some(i), Some((block, tree))) => Some(receipt_at(block, tree, *i)?),
                        _ => self.stored_receipt(id)?,
                    };
                    match earlier {
                        Some(receipt) => SubmitOutcome::Duplicate { id: *id, receipt },
                        None => SubmitOutcome::Rejected {
                            id: *id,
                            error: ErrorBody::from(e),
                        },
                    }
                }
            };
            out.push(outcome);
        }
        Ok(out)
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

/// A written block's state, to be shown to readers once the block is durable.
struct ToPublish {
    height: u64,
    hash: Hash,
    header: SignedBlockHeader,
    /// The bills the block changed, as of this block (the sequencer may be further on by then).
    bills: Vec<ebl_core::Bill>,
    registry: Option<Registry>,
}

/// A batch the sequencer is done with: its block (if any) written but not yet synced, and the answers
/// for its clients, which may go out only once it is durable.
struct Written {
    block: Option<ToPublish>,
    accepted: usize,
    started: Instant,
    outcomes: Vec<SubmitOutcome>,
    batch: Vec<Submission>,
    /// How many candidates each submission of `batch` had (they moved into ordering).
    sizes: Vec<usize>,
}

/// The second stage: sync, witness, publish, answer, one batch at a time and in order. Answers wait for
/// their own block and, through the order, every block before it: a refused resubmission's receipt may
/// name a block still in flight.
struct Durability<K: Kv> {
    store: Arc<LedgerStore<K>>,
    published: Arc<RwLock<Published>>,
    metrics: Arc<Metrics>,
}

impl<K: Kv> Durability<K> {
    fn run(self, written: std_mpsc::Receiver<Written>) -> Result<(), StoreError> {
        for batch in written {
            if let Some(block) = &batch.block {
                let sync_started = Instant::now();
                self.store.sync()?;
                self.store.record_witness(block.height, block.hash)?;
                self.metrics.synced(sync_started.elapsed());
                // Durable: now readers may see it, and clients may be told.
                let publish_started = Instant::now();
                let mut published = match self.published.write() {
                    Ok(p) => p,
                    Err(poisoned) => poisoned.into_inner(),
                };
                published
                    .ledger
                    .adopt(block.bills.iter().cloned(), block.registry.clone());
                published.head = Some(block.header.clone());
                published.transactions += batch.accepted as u64;
                drop(published);
                self.metrics.phase("publish", publish_started.elapsed());
            }
            self.metrics
                .block_committed(batch.accepted, batch.started.elapsed());
            for outcome in &batch.outcomes {
                if let SubmitOutcome::Rejected { error, .. } = outcome {
                    self.metrics.rejected(&error.code);
                }
            }
            let mut outcomes = batch.outcomes.into_iter();
            for (submission, size) in batch.batch.into_iter().zip(batch.sizes) {
                let answers: Vec<SubmitOutcome> = outcomes.by_ref().take(size).collect();
                // The client may have gone away; its transactions are durable all the same.
                let _ = submission.reply.send(answers);
                drop(submission.permit);
            }
        }
        Ok(())
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

/// The state of every bill the block changed, as the ledger reported it.
fn touched_bills(ledger: &Ledger, applied: &[Applied]) -> Vec<ebl_core::Bill> {
    let ids: BTreeSet<BillId> = applied.iter().flat_map(Applied::bills).collect();
    ids.iter()
        .filter_map(|id| ledger.bill(id).cloned())
        .collect()
}

/// The state of every party the block changed, as the ledger reported it.
fn touched_parties(ledger: &Ledger, applied: &[Applied]) -> Vec<ebl_core::Party> {
    let ids: BTreeSet<PartyId> = applied.iter().filter_map(|a| a.party).collect();
    ids.iter()
        .filter_map(|id| ledger.registry().party(*id).cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fill_block;

    /// Regression: submissions of 1000 transactions were taken while the block held fewer than the
    /// maximum, so a fifth one made a block of 5000 > 4096, whose inclusion proofs do not verify.
    #[test]
    fn regression_a_block_never_exceeds_its_maximum() {
        let mut queue = vec![1000usize; 5].into_iter();
        let (block, rest) = fill_block(1000usize, |n| *n, 4096, || queue.next());
        assert_eq!((block.iter().sum::<usize>(), rest), (4000, Some(1000)));
        let mut queue = vec![96usize, 1].into_iter();
        let (block, rest) = fill_block(4000usize, |n| *n, 4096, || queue.next());
        assert_eq!(
            (block, rest),
            (vec![4000, 96], None),
            "exactly the maximum fits"
        );
        let mut queue = Vec::<usize>::new().into_iter();
        assert_eq!(
            fill_block(7usize, |n| *n, 4096, || queue.next()),
            (vec![7], None)
        );
    }
}
