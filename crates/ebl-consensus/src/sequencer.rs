//! Ordering and durability: one thread takes verified transactions in arrival order, applies them to the
//! ledger, groups the accepted ones into a signed block and writes it; a second thread makes each written
//! block durable, in order, and only then publishes it to readers and answers its clients. The two
//! overlap: while block n is being synced, block n+1 is ordered and written (at most one block waits).
//!
//! Ordering is a deterministic apply of an ordered log (`ebl_core::Ledger::apply` over the block's
//! transactions in order), separate from the IO: `order_block` is pure, so the same log can later come
//! from a replicated consensus log (openraft) and be applied by every organisation's node unchanged.

use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ebl_core::api::{ErrorBody, Receipt, SubmitOutcome};
use ebl_core::{Applied, Error, Ledger, MerkleTree, Signatures, SignedTransaction, TxId};
use ebl_store::{Kv, LedgerStore, StoreError, StoredBlock};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit};

use crate::limits::{BLOCK_TRANSACTIONS_MAX, BLOCK_WAIT_MS};
use crate::metrics::Metrics;
use crate::state::Published;
use crate::writer::{BlockWriter, ToPublish};

/// A transaction that passed the stateless checks (structure, signatures), with its id, or the error it
/// failed with.
pub type Candidate = Result<(TxId, SignedTransaction), (TxId, Error)>;

/// Why a submission was not ordered here; each has a stable code the API shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotOrdered {
    /// This node does not lead the cluster; the leader's address, if one is known.
    Leader(Option<String>),
    /// A committed proposal failed this node's checks: it orders and applies nothing more.
    Halted,
    /// Leadership moved while the transactions were being ordered; resubmitting is safe.
    Retry,
}

impl NotOrdered {
    /// The stable code the API answers with.
    pub fn code(&self) -> &'static str {
        match self {
            NotOrdered::Leader(_) => "no_leader",
            NotOrdered::Halted => "node_halted",
            NotOrdered::Retry => "leader_changed",
        }
    }
}

/// One request's transactions: ordered consecutively, answered together.
#[derive(Debug)]
pub struct Submission {
    /// Its transactions, each checked already or with the error it failed with.
    pub candidates: Vec<Candidate>,
    /// Where its outcomes are answered, or why none could be.
    pub reply: oneshot::Sender<Result<Vec<SubmitOutcome>, NotOrdered>>,
    /// Queue slots this submission holds; released when it is answered.
    pub permit: OwnedSemaphorePermit,
}

/// The outcome of ordering one block's worth of candidates.
#[derive(Debug)]
pub(crate) struct Ordered {
    /// Accepted transactions in block order.
    pub accepted: Vec<SignedTransaction>,
    pub ids: Vec<TxId>,
    /// What each accepted transaction changed, in block order.
    pub applied: Vec<Applied>,
    /// For every candidate, in order: its index in `accepted`, or why it was refused.
    pub verdicts: Vec<Result<usize, (TxId, Error)>>,
}

/// Applies candidates in order to the ledger. Pure: the same ledger and candidates give the same result.
pub(crate) fn order_block(
    ledger: &mut Ledger,
    candidates: Vec<Candidate>,
    newest_format: u16,
) -> Ordered {
    let mut ordered = Ordered {
        accepted: Vec::new(),
        ids: Vec::new(),
        applied: Vec::new(),
        verdicts: Vec::with_capacity(candidates.len()),
    };
    // A block at or past the height of a format this release does not know is not ordered: the node
    // stops there with the format named, keeps everything, and goes on once a release that knows it
    // runs in its place.
    let unknown = ledger
        .registry()
        .formats()
        .first_beyond(newest_format)
        .filter(|a| ledger.block_height() >= a.height);
    let this_release = |tx: &SignedTransaction| -> ebl_core::Result<()> {
        if let Some(a) = unknown {
            return Err(ebl_core::Error::FormatTooNew {
                object: ebl_core::format::Encoded::Chain,
                format: a.format,
                newest: newest_format,
            });
        }
        // Only a format this release writes is scheduled through it: its own nodes would stop.
        match tx.body.action {
            ebl_core::Action::ScheduleFormat { format, .. } => {
                ebl_core::format::check_schedulable_by(format, newest_format)
            }
            _ => Ok(()),
        }
    };
    for candidate in candidates {
        match candidate {
            Err(refused) => ordered.verdicts.push(Err(refused)),
            Ok((id, tx)) => match this_release(&tx)
                .and_then(|()| ledger.apply_identified(&tx, id, Signatures::AlreadyVerified))
            {
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

/// Takes submissions after `first` for one block of at most `max` transactions, waiting up to
/// `wait_ms` for more; the submission that would overflow it is returned to start the next.
pub(crate) fn gather(
    first: Submission,
    rx: &mut mpsc::Receiver<Submission>,
    max: usize,
    wait_ms: u64,
) -> (Vec<Submission>, Option<Submission>) {
    let deadline = Instant::now() + Duration::from_millis(wait_ms);
    fill_block(
        first,
        |s| s.candidates.len(),
        max,
        || loop {
            match rx.try_recv() {
                Ok(s) => return Some(s),
                Err(mpsc::error::TryRecvError::Empty) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(_) => return None,
            }
        },
    )
}

/// The sequencer's own state: the working ledger and what writes its blocks.
pub(crate) struct Sequencer<K: Kv> {
    pub(crate) ledger: Ledger,
    pub(crate) writer: BlockWriter<K>,
    pub(crate) published: Arc<RwLock<Published>>,
    /// The newest chain format it orders (see `Settings::newest_format`).
    pub(crate) newest_format: u16,
    /// Where block times come from.
    pub(crate) clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl<K: Kv> std::fmt::Debug for Sequencer<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("height", &self.writer.height())
            .finish()
    }
}

impl<K: Kv> Sequencer<K> {
    /// Runs until every sender is gone, then returns after the last block is durable and answered.
    /// A storage failure stops the sequencer: memory would otherwise run ahead of the disk.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Submission>) -> Result<(), StoreError> {
        // One written block may wait while the one before it is synced; more would only add latency.
        let (to_durable, written) = std_mpsc::sync_channel::<Written>(1);
        let stage = Durability {
            store: self.writer.store.clone(),
            published: self.published.clone(),
            metrics: self.writer.metrics.clone(),
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
        self.writer.checkpoint_now(&self.ledger)
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
            // Group commit: keep taking submissions until the block is full or the wait is over.
            let (batch, rest) = gather(first, rx, BLOCK_TRANSACTIONS_MAX, BLOCK_WAIT_MS);
            carry = rest;
            let written = self.commit(batch)?;
            if to_durable.send(written).is_err() {
                // The stage stopped on a storage failure, which `run` reports.
                return Ok(());
            }
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
        let time_ms = self
            .clock
            .now_ms()
            .max(self.writer.parent_time(&self.ledger));
        self.ledger.set_block(self.writer.height() + 1, time_ms);
        let ordered = order_block(&mut self.ledger, candidates, self.newest_format);
        self.writer.metrics.phase("apply", started.elapsed());
        let block = if ordered.accepted.is_empty() {
            None
        } else {
            Some(self.writer.write_block(
                &self.ledger,
                &ordered.ids,
                &ordered.accepted,
                &ordered.applied,
                time_ms,
            )?)
        };
        let outcomes = outcomes(&self.writer.store, &ordered, block.as_ref().map(|(b, _)| b))?;
        Ok(Written {
            block: block.map(|(_, d)| d),
            accepted: ordered.accepted.len(),
            started,
            outcomes,
            batch,
            sizes,
        })
    }
}

/// Each candidate's outcome. A refused transaction that is already on the ledger, earlier or in this
/// very block, is a resubmission: it gets the original receipt. Only refusals pay the lookup, since a
/// stored transaction can never apply again (its head has moved).
pub(crate) fn outcomes<K: Kv>(
    store: &LedgerStore<K>,
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
                certificate: None,
            },
            (Ok(i), None) => SubmitOutcome::Rejected {
                id: ordered.ids[*i],
                error: {
                    let refusal = ebl_core::refusal::RequestRefusal::Internal(
                        "accepted without a block".into(),
                    );
                    ErrorBody {
                        code: refusal.code().into(),
                        message: refusal.to_string(),
                    }
                },
            },
            (Err((id, e)), placed) => {
                let earlier = match (in_block.get(id), placed) {
                    (Some(i), Some((block, tree))) => Some(receipt_at(block, tree, *i)?),
                    _ => stored_receipt(store, id)?,
                };
                match earlier {
                    Some(receipt) => SubmitOutcome::Duplicate {
                        id: *id,
                        receipt,
                        certificate: None,
                    },
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

pub(crate) fn stored_receipt<K: Kv>(
    store: &LedgerStore<K>,
    id: &TxId,
) -> Result<Option<Receipt>, StoreError> {
    let Some(stored) = store.transaction(id)? else {
        return Ok(None);
    };
    let block = store
        .block(stored.height)?
        .ok_or_else(|| StoreError::Corrupt {
            what: "block",
            key: stored.height.to_string(),
            reason: "a stored transaction names a missing block".into(),
        })?;
    receipt_in(&block, id).map(Some)
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
                block.publish(&self.published, batch.accepted as u64);
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
                let _ = submission.reply.send(Ok(answers));
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
        index: u32::try_from(index).map_err(|_| StoreError::Corrupt {
            what: "block",
            key: header.height.to_string(),
            reason: "more transactions than a block holds".into(),
        })?,
        block: header.hash(),
        block_time_ms: header.time_ms,
        proof,
    })
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
