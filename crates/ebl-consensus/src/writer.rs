//! Turning applied transactions into stored blocks: the header signed by this node, the transactions
//! and their index written, state checkpoints when due, and (once durable) the state published to
//! readers. The single node's sequencer and a cluster member's state machine write blocks the same way.

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use ebl_core::{
    Applied, BillId, BlockHeader, Hash, HeaderBinding, Ledger, MerkleTree, PartyId, Registry,
    SignedBlockHeader, SignedTransaction, SigningKey, TxId,
};
use ebl_store::{BlockWrite, Checkpoint, Kv, LedgerStore, StoreError, StoredBlock};

use crate::checkpoints::{Checkpoints, StateAt};
use crate::metrics::Metrics;
use crate::state::Published;

/// Writes blocks after the stored head, and checkpoints the state they changed.
pub struct BlockWriter<K: Kv> {
    pub(crate) store: Arc<LedgerStore<K>>,
    pub(crate) node_key: SigningKey,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) head: Option<StoredBlock>,
    /// Bills and parties changed since the last state checkpoint, and how many transactions ago it was.
    pub(crate) dirty_bills: BTreeSet<BillId>,
    pub(crate) dirty_parties: BTreeSet<PartyId>,
    pub(crate) since_checkpoint: usize,
    pub(crate) checkpoint_transactions: usize,
    /// The thread checkpoints are written on, beside the blocks.
    pub(crate) checkpoints: Checkpoints,
}

impl<K: Kv> std::fmt::Debug for BlockWriter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockWriter")
            .field("height", &self.height())
            .finish()
    }
}

/// A node's ledger as its store holds it, ready to write on: the ledger, the writer of its next
/// blocks, and the state readers see (as of the head). The one-member sequencer and a member's state
/// machine both start from it.
pub(crate) struct Resumed<K: Kv> {
    pub(crate) ledger: ebl_core::Ledger,
    pub(crate) writer: BlockWriter<K>,
    pub(crate) published: Arc<RwLock<Published>>,
}

impl<K: Kv> BlockWriter<K> {
    /// Loads `store`'s ledger (of `genesis`) and the writer that goes on from its head, with its
    /// checkpoint thread started.
    pub(crate) fn resume(
        store: Arc<LedgerStore<K>>,
        genesis: ebl_core::Genesis,
        node_key: SigningKey,
        metrics: Arc<Metrics>,
        checkpoint_transactions: usize,
    ) -> Result<Resumed<K>, StoreError> {
        let crate::load::Loaded {
            ledger,
            head,
            dirty_bills,
            dirty_parties,
            since_checkpoint,
            transactions,
        } = crate::load::load(&store, genesis)?;
        let published = Arc::new(RwLock::new(Published::new(
            ledger.clone(),
            head.as_ref().map(|b| b.header.clone()),
            transactions,
        )));
        let writer = BlockWriter {
            checkpoints: Checkpoints::start(store.clone(), metrics.clone())?,
            store,
            node_key,
            metrics,
            head,
            dirty_bills,
            dirty_parties,
            since_checkpoint,
            checkpoint_transactions: checkpoint_transactions.max(1),
        };
        Ok(Resumed {
            ledger,
            writer,
            published,
        })
    }

    /// The store the blocks go to.
    pub fn store(&self) -> &LedgerStore<K> {
        &self.store
    }

    pub fn height(&self) -> u64 {
        self.head.as_ref().map_or(0, |b| b.header.header.height)
    }

    /// The hash a next block names as its parent: the head's, or the chain id before the first block.
    pub fn head_hash(&self, ledger: &Ledger) -> Hash {
        match &self.head {
            Some(b) => b.header.header.hash(),
            None => ledger.chain_id(),
        }
    }

    /// The time of the block before the next one (the genesis's before the first).
    pub fn parent_time(&self, ledger: &Ledger) -> u64 {
        match &self.head {
            Some(b) => b.header.header.time_ms,
            None => ledger.genesis().time_ms,
        }
    }

    /// The current state of every bill and party changed since the last checkpoint.
    fn dirty_state(&mut self, ledger: &Ledger) -> (Vec<ebl_core::Bill>, Vec<ebl_core::Party>) {
        let bills = std::mem::take(&mut self.dirty_bills)
            .iter()
            .filter_map(|id| ledger.bill(id).cloned())
            .collect();
        let parties = std::mem::take(&mut self.dirty_parties)
            .iter()
            .filter_map(|id| ledger.registry().party(*id).cloned())
            .collect();
        self.since_checkpoint = 0;
        (bills, parties)
    }

    /// Checkpoints whatever changed since the last checkpoint, durably: at a graceful stop, so the next
    /// start replays nothing.
    pub fn checkpoint_now(&mut self, ledger: &Ledger) -> Result<(), StoreError> {
        // The checkpoints already taken go first: this one is newer.
        self.checkpoints.settle()?;
        if self.dirty_bills.is_empty() && self.dirty_parties.is_empty() {
            return self.store.sync();
        }
        let (bills, parties) = self.dirty_state(ledger);
        let checkpoint = Checkpoint {
            height: self.height(),
            bills: &bills,
            parties: &parties,
            registry: ledger.registry().state(),
            formats: ledger.registry().formats().activations(),
        };
        self.store.write_checkpoint(&checkpoint)?;
        self.store.sync()
    }

    /// Seals transactions `ledger` has applied into a block at `time_ms` and writes it (its
    /// transactions durably to the log; the rest not yet synced). Returns the block and what publishing
    /// it will take.
    pub fn write_block(
        &mut self,
        ledger: &Ledger,
        ids: &[TxId],
        transactions: &[SignedTransaction],
        applied: &[Applied],
        time_ms: u64,
    ) -> Result<(StoredBlock, ToPublish), StoreError> {
        let started = Instant::now();
        // A checkpoint that failed stops the writer before it writes on.
        self.checkpoints.healthy()?;
        let tx_count = u32::try_from(ids.len()).map_err(|_| StoreError::Corrupt {
            what: "block",
            key: (self.height() + 1).to_string(),
            reason: "more transactions than a block holds".into(),
        })?;
        let header = BlockHeader {
            chain: ledger.chain_id(),
            height: self.height() + 1,
            prev: self.head_hash(ledger),
            tx_root: MerkleTree::new(ids).root(),
            tx_count,
            // The orderer's clock; it never runs backwards across blocks (see `parent_time`).
            time_ms,
        };
        let height = header.height;
        let block = StoredBlock {
            header: header.sign(
                &self.node_key,
                HeaderBinding::after(ledger.registry(), height, transactions),
            ),
            tx_ids: ids.to_vec(),
        };
        let bills = touched_bills(ledger, applied);
        let parties = touched_parties(ledger, applied);
        self.dirty_bills.extend(bills.iter().map(|b| b.id));
        self.dirty_parties.extend(parties.iter().map(|p| p.id));
        self.since_checkpoint += transactions.len();
        let write = BlockWrite {
            block: &block,
            transactions,
        };
        self.store.write_block(&write)?;
        if self.since_checkpoint >= self.checkpoint_transactions {
            // The state as of this block, copied now (the ledger moves on), written beside later blocks.
            let (bills, parties) = self.dirty_state(ledger);
            self.checkpoints.send(StateAt {
                height,
                bills,
                parties,
                registry: ledger.registry().state().clone(),
                formats: ledger.registry().formats().activations().to_vec(),
            })?;
        }
        self.metrics.phase("write", started.elapsed());
        let publish = ToPublish {
            height,
            hash: block.header.header.hash(),
            header: block.header.clone(),
            bills,
            // Any registry change: parties, or members and threshold (which change no party).
            registry: transactions
                .iter()
                .any(|tx| tx.body.action.is_registry())
                .then(|| ledger.registry().clone()),
        };
        self.head = Some(block.clone());
        Ok((block, publish))
    }
}

/// A written block's state, to be shown to readers once the block is durable.
#[derive(Debug)]
pub struct ToPublish {
    pub height: u64,
    pub hash: Hash,
    pub header: SignedBlockHeader,
    /// The bills the block changed, as of this block (the orderer may be further on by then).
    pub bills: Vec<ebl_core::Bill>,
    pub registry: Option<Registry>,
}

impl ToPublish {
    /// Shows the block to readers. Call only once it is durable.
    pub fn publish(&self, published: &RwLock<Published>, transactions: u64) {
        let mut published = match published.write() {
            Ok(p) => p,
            Err(poisoned) => poisoned.into_inner(),
        };
        for bill in &self.bills {
            if bill.status.awaits_answer() {
                published.sending.insert(bill.id);
            } else {
                published.sending.remove(&bill.id);
            }
        }
        published
            .ledger
            .adopt(self.bills.iter().cloned(), self.registry.clone());
        published.head = Some(self.header.clone());
        published.transactions += transactions;
    }
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
