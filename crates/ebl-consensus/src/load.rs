//! A node's ledger as its store holds it: the last checkpoint's state with the blocks after it
//! replayed, and the key its checkpoints are sealed with.

use ebl_core::{Genesis, Ledger, Registry, SigningKey};
use ebl_store::{Kv, LedgerStore, StoreError};

/// The ledger as the store holds it: the last checkpoint's state and the blocks after it replayed.
#[derive(Debug)]
pub struct Loaded {
    /// The ledger, replayed to the head.
    pub ledger: Ledger,
    /// The head block.
    pub head: Option<ebl_store::StoredBlock>,
    /// Bills changed since the checkpoint (the next one writes them).
    pub dirty_bills: std::collections::BTreeSet<ebl_core::BillId>,
    /// Parties changed since the checkpoint.
    pub dirty_parties: std::collections::BTreeSet<ebl_core::PartyId>,
    /// Transactions since the checkpoint.
    pub since_checkpoint: usize,
    /// Transactions on the ledger in all.
    pub transactions: u64,
}

/// Loads the ledger `store` holds, of `genesis`.
pub fn load<K: Kv>(store: &LedgerStore<K>, genesis: Genesis) -> Result<Loaded, StoreError> {
    // State as of the last checkpoint, then the blocks after it replayed (their signatures were checked
    // before they were written; every record's seal is checked as it is read).
    let registry_state = match store.registry_head()? {
        Some(state) => state,
        None => Registry::new(&genesis).state().clone(),
    };
    let formats =
        ebl_core::format::FormatSchedule::from_parts(genesis.version, store.format_activations()?);
    let registry = Registry::from_parts(
        registry_state,
        formats,
        genesis.stated_faults(),
        store.parties()?,
    );
    let bills = store.bills()?;
    let mut ledger = Ledger::from_parts(genesis, registry, bills);
    let state_height = store.state_height()?;
    let head = store.head()?;
    let height = head.as_ref().map_or(0, |b| b.header.header.height);
    let mut dirty_bills = std::collections::BTreeSet::new();
    let mut dirty_parties = std::collections::BTreeSet::new();
    let mut since_checkpoint = 0;
    for h in state_height + 1..=height {
        let block = store.block(h)?.ok_or_else(|| StoreError::Corrupt {
            what: "block",
            key: h.to_string(),
            reason: "missing below the head".into(),
        })?;
        let stored_txs = store
            .block_transactions(h)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "block",
                key: h.to_string(),
                reason: "its transactions are not stored".into(),
            })?;
        ledger.set_block(h, block.header.header.time_ms);
        for (id, stored) in block.tx_ids.iter().zip(&stored_txs) {
            if stored.tx.id() != *id {
                return Err(StoreError::Corrupt {
                    what: "transaction",
                    key: id.to_hex(),
                    reason: "the stored transaction is not the one the block lists".into(),
                });
            }
            let applied = ledger
                .apply_identified(&stored.tx, *id, ebl_core::Signatures::AlreadyVerified)
                .map_err(|e| StoreError::Corrupt {
                    what: "transaction",
                    key: id.to_hex(),
                    reason: format!("does not replay: {e}"),
                })?;
            dirty_bills.extend(applied.bills());
            dirty_parties.extend(applied.party);
            since_checkpoint += 1;
        }
    }
    let transactions = match &head {
        Some(_) => count_transactions(store)?,
        None => 0,
    };
    Ok(Loaded {
        ledger,
        head,
        dirty_bills,
        dirty_parties,
        since_checkpoint,
        transactions,
    })
}

fn count_transactions<K: Kv>(store: &LedgerStore<K>) -> Result<u64, StoreError> {
    let mut total = 0;
    for height in 1..=store.height()? {
        if let Some(b) = store.block(height)? {
            total += b.header.header.tx_count as u64;
        }
    }
    Ok(total)
}

/// The key this node seals its checkpoint states with: derived from its node key, a secret it keeps
/// already, so there is no second secret to lose or leak.
pub fn seal_key(node_key: &SigningKey) -> ebl_store::SealKey {
    ebl_store::SealKey::derive(&zeroize::Zeroizing::new(node_key.to_bytes())[..])
}
