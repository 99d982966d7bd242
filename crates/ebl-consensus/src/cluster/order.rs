//! The leader's orderer: it groups submissions, orders them against a working copy of the applied
//! ledger, and proposes the accepted transactions through the replicated log, answering its clients
//! once the block is committed and applied here. The source of order is an [`Engine`], so another
//! engine (a BFT one) can replace Raft behind the same seam.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ebl_core::proposal::PROPOSAL_TRANSACTIONS_MAX;
use ebl_core::{Hash, Ledger, MerkleTree, Proposal, ProposalBody, SigningKey};
use ebl_store::{Kv, LedgerStore, StoreError};
use tokio::sync::mpsc;

use super::machine::{lock, Applier};
use super::{Cluster, Outcome};
use crate::limits::PROPOSALS_IN_FLIGHT_MAX;
use crate::sequencer::{order_block, outcomes, NotOrdered, Ordered, Submission};

/// A proposal handed to the engine: resolves once it is committed and applied on this node, or not.
pub type Applying = Pin<Box<dyn Future<Output = Result<Outcome, NotOrdered>> + Send>>;

/// A consensus engine, where order comes from: proposals go in, in order, and each comes back applied
/// (or not) on this node. Raft is the one engine today ([`RaftEngine`]); a BFT one would be another.
pub trait Engine: Send + Sync {
    /// The term this node leads in now, if it leads: a working copy settled in another term is not
    /// ordered on.
    fn leading(&self) -> Option<u64>;
    /// Waits until everything committed before this node's leadership is applied here.
    fn settle(&self) -> impl Future<Output = Result<(), NotOrdered>> + Send;
    /// Appends `proposal` to the log after every proposal handed over before it, and returns what
    /// resolves once it is committed and applied here: several may be in flight.
    fn propose(
        &self,
        proposal: Proposal,
    ) -> impl Future<Output = Result<Applying, NotOrdered>> + Send;
    /// What resolves once this node is confirmed to lead now, with everything committed applied here
    /// (`Outcome::Nothing`), or with why not: a batch the working copy refused entirely is answered
    /// only then, since no proposal's commit vouches for the copy it was refused on.
    fn confirm(&self) -> Applying;
}

/// Raft as the source of order.
#[derive(Debug, Clone)]
pub struct RaftEngine {
    /// The cluster whose Raft orders.
    pub cluster: Arc<Cluster>,
}

/// Why a proposal was not ordered: this node halted, or it does not lead (the leader, if known).
fn not_ordered(cluster: &Cluster) -> NotOrdered {
    if cluster.halted.load(Ordering::SeqCst) {
        NotOrdered::Halted
    } else {
        NotOrdered::Leader(cluster.leader_address())
    }
}

impl Engine for RaftEngine {
    fn leading(&self) -> Option<u64> {
        self.cluster.leading_term()
    }

    fn confirm(&self) -> Applying {
        let cluster = self.cluster.clone();
        Box::pin(async move {
            super::linearizable(&cluster.raft)
                .await
                .map(|_| Outcome::Nothing)
                .map_err(|_| not_ordered(&cluster))
        })
    }

    async fn settle(&self) -> Result<(), NotOrdered> {
        // ReadIndex on the leader: returns once the state machine has applied all that was committed
        // when this node became leader, including every entry of the terms before.
        super::linearizable(&self.cluster.raft)
            .await
            .map(|_| ())
            .map_err(|_| NotOrdered::Leader(self.cluster.leader_address()))
    }

    async fn propose(&self, proposal: Proposal) -> Result<Applying, NotOrdered> {
        // Handed to Raft's core in call order: the log keeps the order the orderer made them in.
        let applied = self
            .cluster
            .raft
            .client_write_ff(proposal)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "a proposal was not handed to Raft");
                not_ordered(&self.cluster)
            })?;
        let cluster = self.cluster.clone();
        Ok(Box::pin(async move {
            match applied.await {
                Ok(Ok(written)) => Ok(written.data),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "a proposal was not committed");
                    Err(not_ordered(&cluster))
                }
                Err(_) => Err(not_ordered(&cluster)),
            }
        }))
    }
}

/// The applied ledger as the leader orders on it: ahead of the applied state by the proposals in
/// flight, each applied here as every node will apply it.
#[derive(Debug)]
struct Working {
    /// The term it was settled in: a node that leads again later orders on a copy settled afresh.
    term: u64,
    ledger: Ledger,
    height: u64,
    hash: Hash,
    time_ms: u64,
}

/// A batch ordered and proposed, waiting to be committed and applied; or ordered to nothing (every
/// transaction refused), waiting for the proposals before it to be applied, since its refusals (a
/// duplicate of one in flight, say) are answered from the store.
struct InFlight {
    batch: Vec<Submission>,
    ordered: Ordered,
    /// The header the proposal makes, if there is one.
    expected: Option<Hash>,
    applying: Applying,
    /// How many times the batch was ordered: a proposal goes stale only when leadership moved under
    /// it (or a proposal before it did), and the second try orders afresh.
    tries: u8,
}

/// What the orderer does next.
enum Next {
    Submission(Submission),
    Applied(Result<Outcome, NotOrdered>),
    Closed,
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
    /// Proposals in flight, oldest first.
    in_flight: VecDeque<InFlight>,
    /// Batches whose proposal went stale, ordered again once nothing is in flight.
    again: VecDeque<(Vec<Submission>, u8)>,
}

impl<K: Kv, C: Engine> std::fmt::Debug for Orderer<K, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orderer").finish_non_exhaustive()
    }
}

/// Answers every submission of `batch` with `answer` (or its share of the outcomes).
fn answer(batch: Vec<Submission>, answer: Result<Vec<ebl_core::api::SubmitOutcome>, NotOrdered>) {
    let mut answer = answer.map(Vec::into_iter);
    for submission in batch {
        let size = submission.candidates.len();
        let reply = match &mut answer {
            Ok(outcomes) => Ok(outcomes.by_ref().take(size).collect()),
            Err(e) => Err(e.clone()),
        };
        let _ = submission.reply.send(reply);
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
            in_flight: VecDeque::new(),
            again: VecDeque::new(),
        }
    }

    /// Runs until every sender is gone and every proposal in flight is answered, then checkpoints the
    /// applied state. Its storage work blocks: run it on a thread of its own (`cluster::start` does),
    /// or as the one task of a simulation.
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Submission>,
    ) -> Result<(), StoreError> {
        let mut carry: Option<Submission> = None;
        let mut open = true;
        loop {
            if self.in_flight.is_empty() {
                if let Some((batch, tries)) = self.again.pop_front() {
                    self.start(batch, tries).await;
                    continue;
                }
            }
            // A new batch is ordered on a working copy that follows every proposal in flight; after a
            // proposal went stale, only once none is.
            let may_order = self.in_flight.len() < PROPOSALS_IN_FLIGHT_MAX
                && (self.working.is_some() || self.in_flight.is_empty());
            let carried = if may_order { carry.take() } else { None };
            let next = if let Some(s) = carried {
                Next::Submission(s)
            } else if let Some(front) = self.in_flight.front_mut() {
                if may_order && open {
                    tokio::select! {
                        biased;
                        applied = &mut front.applying => Next::Applied(applied),
                        s = rx.recv() => s.map_or(Next::Closed, Next::Submission),
                    }
                } else {
                    Next::Applied((&mut front.applying).await)
                }
            } else if open {
                rx.recv().await.map_or(Next::Closed, Next::Submission)
            } else {
                break;
            };
            match next {
                Next::Closed => open = false,
                Next::Submission(first) => {
                    // Group commit: keep taking submissions until the block is full or the wait is over.
                    let (batch, rest) = gather(
                        first,
                        &mut rx,
                        PROPOSAL_TRANSACTIONS_MAX,
                        crate::limits::PROPOSAL_WAIT_MS,
                    )
                    .await;
                    carry = rest;
                    self.start(batch, 0).await;
                }
                Next::Applied(applied) => {
                    if let Some(done) = self.in_flight.pop_front() {
                        self.finish(done, applied);
                    }
                }
            }
        }
        let mut applier = lock(&self.applier);
        let applier = &mut *applier;
        applier.writer.checkpoint_now(&applier.ledger)
    }

    async fn resync(&mut self, term: u64) -> Result<(), NotOrdered> {
        let began = tokio::time::Instant::now();
        self.consensus.settle().await?;
        tracing::info!(took = ?began.elapsed(), "the leader's orderer settled on the applied ledger");
        // Everything committed before is applied now: what this process proposed and did not see
        // applied never will be.
        self.vouched.clear();
        let applier = lock(&self.applier);
        self.working = Some(Working {
            term,
            ledger: applier.ledger.clone(),
            height: applier.writer.height(),
            hash: applier.writer.head_hash(&applier.ledger),
            time_ms: applier.writer.parent_time(&applier.ledger),
        });
        Ok(())
    }

    /// Orders `batch` on the working copy and proposes what it accepted, behind the proposals in
    /// flight; the working copy moves on to the block the proposal makes.
    async fn start(&mut self, batch: Vec<Submission>, tries: u8) {
        if tries >= 2 {
            return answer(batch, Err(NotOrdered::Retry));
        }
        let Some(term) = self.consensus.leading() else {
            self.working = None;
            return answer(batch, Err(NotOrdered::Leader(None)));
        };
        // A copy from an earlier leadership of this node knows nothing of what other leaders ordered
        // since: a carrier's issue was refused `unknown_key` on one settled before its registration
        // (issue 35, once the same node was elected again soon; `tests/cluster/hosts.rs`).
        if self.working.as_ref().is_some_and(|w| w.term != term) {
            self.working = None;
        }
        if self.working.is_none() {
            if let Err(e) = self.resync(term).await {
                return answer(batch, Err(e));
            }
        }
        let Some(working) = self.working.as_mut() else {
            return answer(batch, Err(NotOrdered::Retry));
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
            // Refused on the working copy, which a node deposed without knowing it yet still holds: a
            // transaction after a registration the new leader ordered was refused `unknown_key` by the
            // old one (issue 35, once elections came sooner). Answered once this node is confirmed to
            // lead; if it does not, the batch goes to the leader.
            self.in_flight.push_back(InFlight {
                batch,
                ordered,
                expected: None,
                applying: self.consensus.confirm(),
                tries,
            });
            return;
        }
        let body = ProposalBody {
            chain: working.ledger.chain_id(),
            parent_height: working.height,
            parent: working.hash,
            time_ms,
            transactions: ordered.accepted.clone(),
        };
        let expected = body.header(MerkleTree::new(&ordered.ids).root()).hash();
        working.height += 1;
        working.hash = expected;
        working.time_ms = time_ms;
        let proposal = body.sign(&self.node_key);
        self.vouched.insert(&proposal);
        match self.consensus.propose(proposal).await {
            Ok(applying) => self.in_flight.push_back(InFlight {
                batch,
                ordered,
                expected: Some(expected),
                applying,
                tries,
            }),
            Err(e) => {
                self.working = None;
                answer(batch, Err(e));
            }
        }
    }

    /// Answers the oldest batch in flight by what became of its proposal: its block, or a refusal; or
    /// orders it again when its proposal went stale.
    fn finish(&mut self, done: InFlight, applied: Result<Outcome, NotOrdered>) {
        let InFlight {
            batch,
            ordered,
            expected,
            tries,
            ..
        } = done;
        match (applied, expected) {
            (Ok(Outcome::Block { height, hash }), Some(expected)) if hash == expected => {
                let outcome = self
                    .store
                    .block(height)
                    .ok()
                    .flatten()
                    .ok_or(NotOrdered::Retry)
                    .and_then(|block| {
                        outcomes(&self.store, &ordered, Some(&block)).map_err(|_| NotOrdered::Retry)
                    });
                answer(batch, outcome);
            }
            // Nothing to propose, and every proposal before it applied as the working copy has it.
            (Ok(_), None) if self.working.is_some() => {
                answer(
                    batch,
                    outcomes(&self.store, &ordered, None).map_err(|_| NotOrdered::Retry),
                );
            }
            (Ok(_), _) => {
                self.working = None;
                self.again.push_back((batch, tries + 1));
            }
            (Err(e), _) => {
                self.working = None;
                answer(batch, Err(e));
            }
        }
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

/// Runs on every node until Raft stops: when this node becomes leader, hands its orderer an empty
/// submission, so the orderer settles (`Engine::settle`: a ReadIndex round to a quorum) at once rather
/// than when its first batch arrives. After a failover the first batch is usually a follower's forward,
/// which arrives a round trip after the election: settling then cost another (issue 35: 250 ms of a
/// WAN failover). Holds the channel weakly, so the orderer still ends when the node drops its sender.
pub(super) async fn settle_when_elected(
    cluster: Arc<Cluster>,
    orderer: mpsc::WeakSender<Submission>,
) {
    let mut changes = cluster.raft.metrics();
    let mut settled_term = None;
    let slot = Arc::new(tokio::sync::Semaphore::new(1));
    loop {
        changes.borrow_and_update();
        let term = cluster.leading_term();
        if term.is_some() && term != settled_term {
            settled_term = term;
            let Some(orderer) = orderer.upgrade() else {
                return; // The node stopped ordering.
            };
            // One nudge at a time: one still waiting settles the orderer as well.
            if let Ok(permit) = slot.clone().try_acquire_owned() {
                let (reply, _) = tokio::sync::oneshot::channel();
                // A full queue needs no nudge: its next batch settles the orderer as soon.
                let _ = orderer.try_send(Submission {
                    candidates: Vec::new(),
                    reply,
                    permit,
                });
            }
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}
