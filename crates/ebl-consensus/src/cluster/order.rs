//! The leader's orderer: it groups submissions, orders them against a working copy of the applied
//! ledger, and proposes the accepted transactions through the replicated log, answering its clients
//! once the block is committed and applied here. The source of order is an [`Engine`], so another
//! engine (a BFT one) can replace Raft behind the same seam.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ebl_core::proposal::PROPOSAL_TRANSACTIONS_MAX;
use ebl_core::{Hash, Ledger, MerkleTree, Proposal, ProposalBody, SigningKey};
use ebl_store::{Kv, LedgerStore, StoreError};
use tokio::sync::mpsc;

use super::machine::{lock, Applier};
use super::{Cluster, Outcome};
use crate::sequencer::{order_block, outcomes, NotOrdered, Submission};

/// A consensus engine, where order comes from: a proposal goes in, and comes back applied (or not) on
/// this node. Raft is the one engine today ([`RaftEngine`]); a BFT one would be another.
pub trait Engine: Send + Sync {
    /// Whether this node may propose now.
    fn leads(&self) -> bool;
    /// Waits until everything committed before this node's leadership is applied here.
    fn settle(&self) -> impl Future<Output = Result<(), NotOrdered>> + Send;
    /// Replicates `proposal` and waits until it is committed and applied here.
    fn propose(
        &self,
        proposal: Proposal,
    ) -> impl Future<Output = Result<Outcome, NotOrdered>> + Send;
}

/// Raft as the source of order.
#[derive(Debug, Clone)]
pub struct RaftEngine {
    /// The cluster whose Raft orders.
    pub cluster: Arc<Cluster>,
}

impl Engine for RaftEngine {
    fn leads(&self) -> bool {
        self.cluster.is_leader()
    }

    async fn settle(&self) -> Result<(), NotOrdered> {
        // ReadIndex on the leader: returns once the state machine has applied all that was committed
        // when this node became leader, including every entry of the terms before.
        self.cluster
            .raft
            .ensure_linearizable()
            .await
            .map(|_| ())
            .map_err(|_| NotOrdered::Leader(self.cluster.leader_address()))
    }

    async fn propose(&self, proposal: Proposal) -> Result<Outcome, NotOrdered> {
        match self.cluster.raft.client_write(proposal).await {
            Ok(written) => Ok(written.data),
            Err(e) => {
                tracing::warn!(error = %e, "a proposal was not committed");
                if self.cluster.halted.load(Ordering::SeqCst) {
                    Err(NotOrdered::Halted)
                } else {
                    Err(NotOrdered::Leader(self.cluster.leader_address()))
                }
            }
        }
    }
}

/// The applied ledger as the leader orders on it, ahead of the applied state by nothing once settled.
#[derive(Debug)]
struct Working {
    ledger: Ledger,
    height: u64,
    hash: Hash,
    time_ms: u64,
}

pub(super) struct Orderer<K: Kv, C: Engine> {
    pub consensus: C,
    /// Where this process notes the proposals it made (their signatures checked here).
    pub vouched: super::machine::Vouched,
    pub applier: Arc<Mutex<Applier<K>>>,
    pub store: Arc<LedgerStore<K>>,
    pub node_key: SigningKey,
    /// Where block times come from.
    pub clock: Arc<dyn crate::clock::Clock>,
    working: Option<Working>,
}

impl<K: Kv, C: Engine> std::fmt::Debug for Orderer<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orderer").finish_non_exhaustive()
    }
}

impl<K: Kv, C: Engine> Orderer<K, C> {
    pub(super) fn new(
        consensus: C,
        applier: Arc<Mutex<Applier<K>>>,
        store: Arc<LedgerStore<K>>,
        node_key: SigningKey,
        clock: Arc<dyn crate::clock::Clock>,
    ) -> Self {
        let vouched = lock(&applier).vouched.clone();
        Orderer {
            consensus,
            vouched,
            applier,
            store,
            node_key,
            clock,
            working: None,
        }
    }

    /// Runs until every sender is gone, then checkpoints the applied state. Its storage work blocks:
    /// run it on a thread of its own (`cluster::start` does), or as the one task of a simulation.
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Submission>,
    ) -> Result<(), StoreError> {
        let mut carry: Option<Submission> = None;
        loop {
            let first = match carry.take() {
                Some(s) => s,
                None => match rx.recv().await {
                    Some(s) => s,
                    None => break,
                },
            };
            // Group commit: keep taking submissions until the block is full or the wait is over.
            let (batch, rest) = gather(
                first,
                &mut rx,
                PROPOSAL_TRANSACTIONS_MAX,
                crate::limits::PROPOSAL_WAIT_MS,
            )
            .await;
            carry = rest;
            self.serve(batch).await?;
        }
        let mut applier = lock(&self.applier);
        let applier = &mut *applier;
        applier.writer.checkpoint_now(&applier.ledger)
    }

    async fn resync(&mut self) -> Result<(), NotOrdered> {
        self.consensus.settle().await?;
        // Everything committed before is applied now: what this process proposed and did not see
        // applied never will be.
        self.vouched.clear();
        let applier = lock(&self.applier);
        self.working = Some(Working {
            ledger: applier.ledger.clone(),
            height: applier.writer.height(),
            hash: applier.writer.head_hash(&applier.ledger),
            time_ms: applier.writer.parent_time(&applier.ledger),
        });
        Ok(())
    }

    /// Orders and proposes one batch, and answers its submissions.
    async fn serve(&mut self, batch: Vec<Submission>) -> Result<(), StoreError> {
        let answer = self.order(&batch).await;
        let mut answer = match answer {
            Ok(outcomes) => Ok(outcomes.into_iter()),
            Err(e) => Err(e),
        };
        for submission in batch {
            let size = submission.candidates.len();
            let reply = match &mut answer {
                Ok(outcomes) => Ok(outcomes.by_ref().take(size).collect()),
                Err(e) => Err(e.clone()),
            };
            let _ = submission.reply.send(reply);
        }
        Ok(())
    }

    async fn order(
        &mut self,
        batch: &[Submission],
    ) -> Result<Vec<ebl_core::api::SubmitOutcome>, NotOrdered> {
        // A proposal goes stale only when leadership moved under it; the second try orders afresh.
        for _ in 0..2 {
            if !self.consensus.leads() {
                self.working = None;
                return Err(NotOrdered::Leader(None));
            }
            if self.working.is_none() {
                self.resync().await?;
            }
            let Some(working) = self.working.as_mut() else {
                return Err(NotOrdered::Retry);
            };
            let candidates = batch
                .iter()
                .flat_map(|s| s.candidates.iter().cloned())
                .collect();
            let time_ms = self.clock.now_ms().max(working.time_ms);
            working.ledger.set_block(working.height + 1, time_ms);
            let ordered = order_block(
                &mut working.ledger,
                candidates,
                ebl_core::format::FORMAT_VERSION,
            );
            if ordered.accepted.is_empty() {
                return outcomes(&self.store, &ordered, None).map_err(|_| NotOrdered::Retry);
            }
            let body = ProposalBody {
                chain: working.ledger.chain_id(),
                parent_height: working.height,
                parent: working.hash,
                time_ms,
                transactions: ordered.accepted.clone(),
            };
            let expected = body.header(MerkleTree::new(&ordered.ids).root()).hash();
            let proposal = body.sign(&self.node_key);
            self.vouched.insert(&proposal);
            match self.consensus.propose(proposal).await {
                Ok(Outcome::Block { height, hash }) if hash == expected => {
                    working.height = height;
                    working.hash = hash;
                    working.time_ms = time_ms;
                    let block = self
                        .store
                        .block(height)
                        .ok()
                        .flatten()
                        .ok_or(NotOrdered::Retry)?;
                    return outcomes(&self.store, &ordered, Some(&block))
                        .map_err(|_| NotOrdered::Retry);
                }
                Ok(_) => self.working = None,
                Err(e) => {
                    self.working = None;
                    return Err(e);
                }
            }
        }
        Err(NotOrdered::Retry)
    }
}

/// Takes submissions after `first` for one proposal of at most `max` transactions, waiting up to
/// `wait_ms` for more (on the runtime's clock, so a simulation's time drives it); the submission that
/// would overflow it is returned to start the next.
async fn gather(
    first: Submission,
    rx: &mut mpsc::Receiver<Submission>,
    max: usize,
    wait_ms: u64,
) -> (Vec<Submission>, Option<Submission>) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
    // The sequencer's rule (`fill_block`): never more than `max`; what would overflow starts the next.
    let mut count = first.candidates.len();
    let mut batch = vec![first];
    while count < max {
        let next = match rx.try_recv() {
            Ok(s) => s,
            Err(mpsc::error::TryRecvError::Empty) => {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(s)) => s,
                    _ => break,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        if count + next.candidates.len() > max {
            return (batch, Some(next));
        }
        count += next.candidates.len();
        batch.push(next);
    }
    (batch, None)
}
