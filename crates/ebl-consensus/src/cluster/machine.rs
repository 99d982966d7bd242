//! The replicated state machine: every committed proposal applied to this node's own ledger, each
//! signature and rule checked again here, the block written and signed by this node, made durable, then
//! shown to readers. A proposal that fails the checks halts this node with the proposal kept as
//! evidence: the node stops rather than fork or take the leader's word.

// openraft's storage traits fix the error type (`StorageError`, over 200 bytes): boxing it here would
// only move the size to every call into openraft.
#![allow(clippy::result_large_err)]

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use ebl_core::{codec, Hash, Ledger, MerkleTree, Proposal, SignedTransaction, TxId};
use ebl_store::{Kv, StoreError};
use openraft::storage::RaftStateMachine;
use openraft::{
    AnyError, Entry, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, Snapshot,
    SnapshotMeta, StorageError, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};

use super::fault::BlockFault;
use super::{BasicNode, NodeId, Outcome, TypeConfig};
use crate::state::Published;
use crate::writer::BlockWriter;

const APPLIED: &[u8] = b"sa";
const MEMBERSHIP: &[u8] = b"sm";
const SNAPSHOT: &[u8] = b"ss";
const META_BYTES_MAX: usize = 64 * 1024;

/// Why this node stopped applying: the committed log holds something it will not apply.
#[derive(Debug, thiserror::Error)]
pub enum Halt {
    #[error("proposal at log index {index} from node {proposer}: {fault} ({}; evidence in {evidence})", fault.code())]
    /// A committed proposal this node refuses to apply, with the evidence kept.
    Refused {
        /// Its Raft log index.
        index: u64,
        /// The node that proposed it.
        proposer: String,
        /// Why it is refused.
        fault: BlockFault,
        /// Where the evidence was written.
        evidence: String,
    },
    /// Halted by an earlier refusal.
    #[error("this node halted earlier (see its log and evidence): it applies nothing more")]
    Stopped,
    /// Storage failed while applying.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a snapshot holds: only the head it reaches. The blocks up to it are this ledger's own, fetched
/// from a peer and checked one by one by a node that installs it (see `catchup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHead {
    /// The height of the last block it reaches.
    pub height: u64,
    /// That block's header hash.
    pub hash: Hash,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, BasicNode>,
    head: SnapshotHead,
}

/// The applied state, shared with the leader's orderer (which starts from it after a leader change).
#[derive(Debug)]
pub struct Applier<K: Kv> {
    /// The ledger as applied so far.
    pub ledger: Ledger,
    /// Turns applied proposals into stored, signed blocks.
    pub writer: BlockWriter<K>,
    /// The state readers see, published after each block is durable.
    pub published: Arc<RwLock<Published>>,
    /// The last Raft log entry applied.
    pub last_applied: Option<LogId<NodeId>>,
    /// The membership as the log last set it.
    pub membership: StoredMembership<NodeId, BasicNode>,
    /// The Raft log's store, which also keeps the applied point and membership.
    pub meta: Arc<dyn Kv>,
    /// Where a refused proposal's evidence is written.
    pub evidence: PathBuf,
    /// Set when this node halts.
    pub halted: Arc<AtomicBool>,
    /// What the proposal being applied changed, transaction by transaction.
    pub pending_applied: Vec<ebl_core::Applied>,
    /// Proposals this very process ordered, by signature: their transactions' signatures were checked
    /// here before ordering, so applying them checks the rules again but not the signatures. Anything
    /// else (another node's proposal, or this node's own replayed after a restart) is checked in full.
    pub vouched: Vouched,
    /// The other platforms' keys this node trusts (its PINT trust directory's): another node's record of
    /// a send's outcome is applied only on an answer signed by one of the receiving platform's.
    pub pint_trust: ebl_pint::TrustStore,
}

/// The signatures of the proposals this process made and has not applied yet.
#[derive(Debug, Clone, Default)]
pub struct Vouched(Arc<Mutex<std::collections::HashSet<[u8; 64]>>>);

/// The most proposals remembered as this process's own. Each is only a saving (a forgotten one has its
/// signatures checked again), so past the bound the memory is simply cleared.
pub const VOUCHED_MAX: usize = 1024;

impl Vouched {
    /// Remembers `proposal` as this process's own (its signatures checked here).
    pub fn insert(&self, proposal: &Proposal) {
        let mut set = match self.0.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        // Proposals that were never applied (leadership moved under them) would otherwise stay.
        if set.len() >= VOUCHED_MAX {
            set.clear();
        }
        set.insert(proposal.signature.0);
    }

    /// Forgets every proposal: after a leadership change none of those in flight may ever apply.
    pub fn clear(&self) {
        match self.0.lock() {
            Ok(mut s) => s.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// Whether this process made `proposal` (and forgets it: each is applied once).
    fn take(&self, proposal: &Proposal) -> bool {
        let mut set = match self.0.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        set.remove(&proposal.signature.0)
    }
}

impl<K: Kv> Applier<K> {
    /// The applier over `store` (initialised with `genesis`): its ledger loaded and replayed, the
    /// applied point and membership read from `meta` (the Raft log's store).
    pub fn open(
        store: Arc<ebl_store::LedgerStore<K>>,
        genesis: ebl_core::Genesis,
        node_key: ebl_core::SigningKey,
        metrics: Arc<crate::metrics::Metrics>,
        meta: Arc<dyn Kv>,
        evidence: PathBuf,
        checkpoint_transactions: usize,
    ) -> Result<Applier<K>, StoreError> {
        let crate::writer::Resumed {
            ledger,
            writer,
            published,
        } = BlockWriter::resume(store, genesis, node_key, metrics, checkpoint_transactions)?;
        let mut applier = Applier {
            ledger,
            writer,
            published,
            last_applied: None,
            membership: StoredMembership::default(),
            meta,
            evidence,
            halted: Arc::new(AtomicBool::new(false)),
            pending_applied: Vec::new(),
            vouched: Vouched::default(),
            pint_trust: ebl_pint::TrustStore::default(),
        };
        applier.restore()?;
        Ok(applier)
    }

    /// Reads the applied point and membership this node recorded (none on a new node).
    pub fn restore(&mut self) -> Result<(), StoreError> {
        if let Some(bytes) = self.meta.get(APPLIED)? {
            self.last_applied = codec::decode(&bytes, META_BYTES_MAX).map_err(corrupt)?;
        }
        if let Some(bytes) = self.meta.get(MEMBERSHIP)? {
            self.membership = codec::decode(&bytes, META_BYTES_MAX).map_err(corrupt)?;
        }
        Ok(())
    }

    fn record(&self) -> Result<(), StoreError> {
        // Not synced on its own: re-applying an entry after a crash is harmless (a proposal already
        // applied is recognised by its block, a membership entry sets the same value again).
        self.meta.apply(vec![
            (APPLIED.to_vec(), Some(codec::encode(&self.last_applied))),
            (MEMBERSHIP.to_vec(), Some(codec::encode(&self.membership))),
        ])
    }

    /// The head a snapshot taken now reaches.
    pub fn head(&self) -> SnapshotHead {
        SnapshotHead {
            height: self.writer.height(),
            hash: self.writer.head_hash(&self.ledger),
        }
    }

    /// Applies one committed proposal: every rule and signature checked again, the block written and
    /// synced, then published.
    pub fn apply_proposal(&mut self, proposal: &Proposal, index: u64) -> Result<Outcome, Halt> {
        if self.halted.load(Ordering::SeqCst) {
            return Err(Halt::Stopped);
        }
        let body = &proposal.body;
        let height = self.writer.height();
        let ids: Vec<TxId> = body
            .transactions
            .iter()
            .map(SignedTransaction::id)
            .collect();
        if body.parent_height < height {
            // Applied before a crash lost the applied point, or ordered on a head that has moved on.
            return Ok(match self.writer.store.block(body.parent_height + 1)? {
                Some(b) if b.header.header.prev == body.parent && b.tx_ids == ids => {
                    Outcome::Block {
                        height: b.header.header.height,
                        hash: b.header.header.hash(),
                    }
                }
                _ => Outcome::Stale,
            });
        }
        if body.parent_height != height || body.parent != self.writer.head_hash(&self.ledger) {
            // A leader ordered it on a head that was not to be: every node skips it alike.
            return Ok(Outcome::Stale);
        }
        if let Err(fault) = self.knows_the_format_of(height + 1) {
            return Err(self.halt(proposal, index, fault));
        }
        if let Err(fault) = self.check_and_apply(proposal, &ids) {
            return Err(self.halt(proposal, index, fault));
        }
        let applied_ids = ids;
        let (block, publish) = self.writer.write_block(
            &self.ledger,
            &applied_ids,
            &body.transactions,
            &self.pending_applied,
            body.time_ms,
        )?;
        self.pending_applied.clear();
        self.writer.store.sync()?;
        let hash = block.header.header.hash();
        self.writer
            .store
            .record_witness(block.header.header.height, hash)?;
        publish.publish(&self.published, body.transactions.len() as u64);
        Ok(Outcome::Block {
            height: block.header.header.height,
            hash,
        })
    }

    /// The checks a follower makes before it writes anything: the proposer is a member node, its
    /// signature holds, time does not run backwards, and every transaction verifies and applies.
    fn check_and_apply(&mut self, proposal: &Proposal, ids: &[TxId]) -> Result<(), BlockFault> {
        let body = &proposal.body;
        if body.chain != self.ledger.chain_id() {
            return Err(BlockFault::OtherChain);
        }
        // A member's node, or a voter of the Raft membership applied so far: a member that governance
        // just removed still leads until the change that drops its node is committed, and its
        // proposals until then are as valid as any (its signature no longer counts to finality).
        let member = self
            .ledger
            .registry()
            .member_by_node(&proposal.proposer)
            .is_some();
        let voter = self
            .membership
            .membership()
            .voter_ids()
            .any(|id| id == super::node_id(&proposal.proposer));
        if !member && !voter {
            return Err(BlockFault::NotAProposer);
        }
        proposal
            .verify_signature()
            .map_err(BlockFault::BadProposalSignature)?;
        if body.transactions.is_empty() {
            return Err(BlockFault::Empty);
        }
        self.check_time(body.time_ms)?;
        self.ledger
            .set_block(self.writer.height() + 1, body.time_ms);
        self.pending_applied.clear();
        // Its own proposal, made by this process: it checked these signatures itself before ordering.
        let ours = proposal.proposer == ebl_core::PartyKey::of(&self.writer.node_key)
            && self.vouched.take(proposal);
        for (tx, id) in body.transactions.iter().zip(ids) {
            if !ours {
                self.check_send_outcome(tx, *id)?;
            }
            // Another node's proposal: this node does not take the leader's word for any signature.
            let applied = self.apply_checked(tx, *id, !ours)?;
            self.pending_applied.push(applied);
        }
        Ok(())
    }

    /// A block at or past the height of a format this release does not know is not applied: the node
    /// stops before it, keeps everything it had, and goes on once a release that knows it runs here.
    fn knows_the_format_of(&self, height: u64) -> Result<(), BlockFault> {
        match self.ledger.registry().formats().first_unknown() {
            Some(a) if a.height <= height => Err(BlockFault::FormatUnknown {
                height,
                format: a.format,
                newest: ebl_core::format::FORMAT_VERSION,
            }),
            _ => Ok(()),
        }
    }

    /// Another node's record of a send's outcome is applied only on the receiving platform's signed
    /// answer, checked here against this node's own PINT trust: one node alone cannot give a bill back
    /// to its holder, or end its life here, on words no platform signed (finding 6 of the attack
    /// review). A node that cannot check it (no key of that platform) refuses it like any bad block,
    /// so it never reaches the finality quorum, which needs this node or another honest one.
    fn check_send_outcome(&self, tx: &SignedTransaction, id: TxId) -> Result<(), BlockFault> {
        use ebl_core::{Action, Status};
        use ebl_pint::Recorded;
        let (recorded, bill, answer, entry) = match &tx.body.action {
            Action::SentOut {
                bill,
                entry,
                answer,
            } => (Recorded::Transferred, bill, answer, Some(entry.as_str())),
            Action::SendRefused { bill, answer } => (Recorded::Refused, bill, answer, None),
            Action::SendDisputed { bill, answer } => (Recorded::Disputed, bill, answer, None),
            _ => return Ok(()),
        };
        // A bill not being sent refuses the record by the ledger's own rule.
        let platform = match self.ledger.bill(bill).map(|b| &b.status) {
            Some(Status::SendingOut { to, .. } | Status::Disputed { to, .. }) => &to.platform,
            _ => return Ok(()),
        };
        ebl_pint::check_recorded_answer(recorded, answer, entry, &self.pint_trust, platform)
            .map(|_| ())
            .map_err(|fault| BlockFault::SendOutcomeUnbacked { id, fault })
    }

    /// Time never runs backwards across blocks.
    fn check_time(&self, time_ms: u64) -> Result<(), BlockFault> {
        let parent_ms = self.writer.parent_time(&self.ledger);
        if time_ms < parent_ms {
            return Err(BlockFault::TimeBackwards { time_ms, parent_ms });
        }
        Ok(())
    }

    /// Applies one transaction of a proposal or fetched block, its signatures checked first unless
    /// this process checked them already.
    fn apply_checked(
        &mut self,
        tx: &SignedTransaction,
        id: TxId,
        check_signatures: bool,
    ) -> Result<ebl_core::Applied, BlockFault> {
        let verified = if check_signatures {
            tx.verified_id()
                .map_err(|error| BlockFault::BadTransaction { id, error })?
        } else {
            id
        };
        self.ledger
            .apply_identified(tx, verified, ebl_core::Signatures::AlreadyVerified)
            .map_err(|error| BlockFault::TransactionRefused { id, error })
    }

    /// Keeps the refused proposal as evidence, marks the node halted, and says why.
    fn halt(&mut self, proposal: &Proposal, index: u64, fault: BlockFault) -> Halt {
        self.halted.store(true, Ordering::SeqCst);
        let path = self.evidence.join(format!("proposal-{index}.bin"));
        let written = std::fs::create_dir_all(&self.evidence)
            .and_then(|()| std::fs::write(&path, proposal.encode()));
        let evidence = match written {
            Ok(()) => path.display().to_string(),
            Err(e) => format!("not written: {e}"),
        };
        let halt = Halt::Refused {
            index,
            proposer: proposal.proposer.to_hex(),
            fault,
            evidence,
        };
        tracing::error!(error = %halt, "halted: a committed proposal failed this node's checks; nothing of it was written");
        halt
    }
}

fn corrupt(e: ebl_core::Error) -> StoreError {
    StoreError::Corrupt {
        what: "raft state",
        key: "applied".into(),
        reason: e.to_string(),
    }
}

/// The state machine openraft drives; it holds the applier behind a lock the orderer shares.
#[derive(Debug)]
pub struct Machine<K: Kv> {
    /// The applied state.
    pub applier: Arc<Mutex<Applier<K>>>,
    /// How it fetches the blocks behind a snapshot from its peers.
    pub catchup: super::catchup::Catchup,
}

impl<K: Kv> Clone for Machine<K> {
    fn clone(&self) -> Self {
        Machine {
            applier: self.applier.clone(),
            catchup: self.catchup.clone(),
        }
    }
}

pub(crate) fn lock<K: Kv>(applier: &Mutex<Applier<K>>) -> std::sync::MutexGuard<'_, Applier<K>> {
    match applier.lock() {
        Ok(a) => a,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn sm_error(e: &(impl std::error::Error + 'static)) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(AnyError::new(e)).into()
}

impl<K: Kv> Machine<K> {
    fn snapshot_of(&self, stored: StoredSnapshot) -> Snapshot<TypeConfig> {
        Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(codec::encode(&stored.head))),
        }
    }
}

impl<K: Kv> RaftSnapshotBuilder<TypeConfig> for Machine<K> {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let stored = {
            let applier = lock(&self.applier);
            let head = applier.head();
            let meta = SnapshotMeta {
                last_log_id: applier.last_applied,
                last_membership: applier.membership.clone(),
                snapshot_id: format!(
                    "{}-{}",
                    applier.last_applied.map_or(0, |l| l.index),
                    head.height
                ),
            };
            let stored = StoredSnapshot { meta, head };
            // The ledger's own blocks are durable already; the snapshot names how far they reach.
            applier
                .meta
                .apply(vec![(SNAPSHOT.to_vec(), Some(codec::encode(&stored)))])
                .and_then(|()| applier.meta.sync())
                .map_err(|e| sm_error(&e))?;
            stored
        };
        Ok(self.snapshot_of(stored))
    }
}

impl<K: Kv> RaftStateMachine<TypeConfig> for Machine<K> {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>>
    {
        let applier = lock(&self.applier);
        Ok((applier.last_applied, applier.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry<TypeConfig>> = entries.into_iter().collect();
        let applier = self.applier.clone();
        // Checking signatures and syncing the store take a while: off the async threads.
        super::runtime::off_thread(move || {
            let mut applier = lock(&applier);
            let mut outcomes = Vec::with_capacity(entries.len());
            for entry in entries {
                let outcome = match &entry.payload {
                    EntryPayload::Blank => Outcome::Nothing,
                    EntryPayload::Membership(m) => {
                        applier.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                        Outcome::Nothing
                    }
                    EntryPayload::Normal(proposal) => applier
                        .apply_proposal(proposal, entry.log_id.index)
                        .map_err(|e| {
                            StorageError::from(StorageIOError::apply(
                                entry.log_id,
                                AnyError::new(&e),
                            ))
                        })?,
                };
                applier.last_applied = Some(entry.log_id);
                outcomes.push(outcome);
            }
            applier.record().map_err(|e| sm_error(&e))?;
            Ok(outcomes)
        })
        .await
        .map_err(|e| sm_error(&e))?
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let head: SnapshotHead =
            codec::decode(snapshot.get_ref(), META_BYTES_MAX).map_err(|e| {
                StorageError::from(StorageIOError::read_snapshot(None, AnyError::new(&e)))
            })?;
        // Worth an operator's notice: this node missed more than the leader's log still holds.
        tracing::warn!(
            height = head.height,
            "installing a snapshot: catching up from peers to height {}",
            head.height
        );
        let applier = self.applier.clone();
        let catchup = self.catchup.clone();
        let meta = meta.clone();
        super::runtime::off_thread(move || {
            // The log up to the snapshot is gone on the leader: fetch the blocks it reaches from peers,
            // checking each as if it were applied from the log, before this node goes on from there.
            catchup.reach(&applier, &head).map_err(|e| sm_error(&e))?;
            let mut applier = lock(&applier);
            applier.last_applied = meta.last_log_id;
            applier.membership = meta.last_membership.clone();
            applier.record().map_err(|e| sm_error(&e))?;
            let stored = StoredSnapshot { meta, head };
            applier
                .meta
                .apply(vec![(SNAPSHOT.to_vec(), Some(codec::encode(&stored)))])
                .and_then(|()| applier.meta.sync())
                .map_err(|e| sm_error(&e))
        })
        .await
        .map_err(|e| sm_error(&e))?
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let bytes = lock(&self.applier)
            .meta
            .get(SNAPSHOT)
            .map_err(|e| sm_error(&e))?;
        match bytes {
            Some(bytes) => {
                let stored: StoredSnapshot =
                    codec::decode(&bytes, META_BYTES_MAX).map_err(|e| sm_error(&e))?;
                Ok(Some(self.snapshot_of(stored)))
            }
            None => Ok(None),
        }
    }
}

/// A block a peer sent, checked against this node's own replay before it is written: used to catch up.
pub fn apply_fetched<K: Kv>(
    applier: &mut Applier<K>,
    header: &ebl_core::BlockHeader,
    transactions: &[SignedTransaction],
) -> Result<(), Fetched> {
    if header.chain != applier.ledger.chain_id() {
        return Err(BlockFault::OtherChain.into());
    }
    let expected_prev = applier.writer.head_hash(&applier.ledger);
    if header.height != applier.writer.height() + 1 || header.prev != expected_prev {
        return Err(BlockFault::DoesNotFollow.into());
    }
    applier.knows_the_format_of(header.height)?;
    let ids: Vec<TxId> = transactions.iter().map(SignedTransaction::id).collect();
    if MerkleTree::new(&ids).root() != header.tx_root || ids.len() != header.tx_count as usize {
        return Err(BlockFault::NotItsTransactions.into());
    }
    applier.check_time(header.time_ms)?;
    applier.ledger.set_block(header.height, header.time_ms);
    let mut applied = Vec::with_capacity(transactions.len());
    for (tx, id) in transactions.iter().zip(&ids) {
        applied.push(applier.apply_checked(tx, *id, true)?);
    }
    // Height, parent, root, count, time and chain are checked above: the header this node signs is
    // the peer's, byte for byte.
    let applier = &mut *applier;
    let (_, publish) = applier.writer.write_block(
        &applier.ledger,
        &ids,
        transactions,
        &applied,
        header.time_ms,
    )?;
    applier.writer.store.sync()?;
    applier
        .writer
        .store
        .record_witness(header.height, header.hash())?;
    publish.publish(&applier.published, transactions.len() as u64);
    Ok(())
}

/// Why a fetched block was not written: it failed a check, or the store did.
#[derive(Debug, thiserror::Error)]
pub enum Fetched {
    /// The block failed a check.
    #[error(transparent)]
    Fault(#[from] BlockFault),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::{Vouched, VOUCHED_MAX};
    use ebl_core::{Hash, ProposalBody, SigningKey};

    fn proposal(n: u64) -> ebl_core::Proposal {
        ProposalBody {
            chain: Hash::of(b"chain"),
            parent_height: n,
            parent: Hash::of(&n.to_be_bytes()),
            time_ms: n,
            transactions: Vec::new(),
        }
        .sign(&SigningKey::from_bytes(&[7; 32]))
    }

    #[test]
    fn the_memory_of_own_proposals_is_bounded() {
        let vouched = Vouched::default();
        let first = proposal(0);
        vouched.insert(&first);
        for n in 1..VOUCHED_MAX as u64 {
            vouched.insert(&proposal(n));
        }
        // At the bound everything is still remembered; one more clears the memory first.
        assert!(vouched.take(&proposal(VOUCHED_MAX as u64 - 1)));
        vouched.insert(&proposal(VOUCHED_MAX as u64 - 1));
        vouched.insert(&proposal(VOUCHED_MAX as u64));
        assert!(
            !vouched.take(&first),
            "forgotten: its signatures are checked again"
        );
        assert!(vouched.take(&proposal(VOUCHED_MAX as u64)));
        assert!(
            !vouched.take(&proposal(VOUCHED_MAX as u64)),
            "each is taken once"
        );
    }
}
