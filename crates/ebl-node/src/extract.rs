//! A bill's registry extract (chain format 8): the entries of the parties a bundle relies on and of the
//! consortium, each with its proof under the registry's root, their registry history, and the registry
//! head before each of the bundle's blocks, so that a bank's bundle does not carry every party the
//! consortium ever admitted.
//!
//! The store keeps the registry's history as one chain (each registry transaction names the head before
//! it), not by party: [`RegistryIndex`] walks it once, then only what was added since, and keeps each
//! party's transactions, the consortium's, and when the head moved.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ebl_core::api::{HistoryEntry, RegistryExtract};
use ebl_core::bundle::{HeadBefore, RegistryProofs};
use ebl_core::limits::BUNDLE_ENTRIES_MAX;
use ebl_core::{Hash, PartyId, PartyKey, TxId};
use ebl_store::{Kv, LedgerStore, StoreError};

use crate::refusal::RequestRefusal;
use ebl_consensus::sequencer::receipt_in;
use ebl_consensus::Published;

/// The registry's history by party, as far as the registry head it has walked to.
#[derive(Debug, Default)]
pub(crate) struct RegistryIndex {
    /// The registry head walked to (`None`: nothing walked yet, the chain id).
    covered: Option<Hash>,
    by_party: HashMap<PartyId, Vec<TxId>>,
    consortium: Vec<TxId>,
    /// Every registry transaction's height, in ledger order: the head before a height is the last
    /// one below it.
    timeline: Vec<(u64, TxId)>,
}

/// What an extract is asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtractRequest {
    /// The statement's height: the registry must not have moved past it.
    pub height: u64,
    /// Parties the bill names.
    pub parties: Vec<PartyId>,
    /// Keys that signed the bill's transactions.
    pub keys: Vec<PartyKey>,
    /// The heights of the bundle's blocks.
    pub blocks: Vec<u64>,
}

/// Why no extract was given.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExtractError {
    /// A refusal the API answers with its code.
    #[error(transparent)]
    Refused(#[from] RequestRefusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RegistryIndex {
    /// Walks the registry's chain from `head` back to where the index stood (the chain id `chain` at
    /// first), and takes in what it finds.
    fn catch_up<K: Kv>(
        &mut self,
        store: &LedgerStore<K>,
        head: Hash,
        chain: Hash,
    ) -> Result<(), StoreError> {
        let start = self.covered.unwrap_or(chain);
        if head == start {
            return Ok(());
        }
        for stored in store.history_back(head, start, usize::MAX)? {
            let id = stored.tx.id();
            self.timeline.push((stored.height, id));
            match stored.tx.body.action.registry_party() {
                Some(party) => self.by_party.entry(party).or_default().push(id),
                None => self.consortium.push(id),
            }
        }
        self.covered = Some(head);
        Ok(())
    }

    /// The registry head before the block at `height`.
    fn head_before(&self, chain: Hash, height: u64) -> Hash {
        let at = self.timeline.partition_point(|(h, _)| *h < height);
        at.checked_sub(1)
            .and_then(|i| self.timeline.get(i))
            .map_or(chain, |(_, id)| *id)
    }

    /// The height of the registry's last change (0: none).
    fn last_change(&self) -> u64 {
        self.timeline.last().map_or(0, |(h, _)| *h)
    }
}

/// The extract `request` asks for, from the published state and the store.
pub(crate) fn extract<K: Kv>(
    store: &LedgerStore<K>,
    published: &Published,
    index: &mut RegistryIndex,
    request: &ExtractRequest,
) -> Result<RegistryExtract, ExtractError> {
    if request.parties.len() + request.keys.len() > BUNDLE_ENTRIES_MAX
        || request.blocks.len() > BUNDLE_ENTRIES_MAX
    {
        return Err(RequestRefusal::BadBody(format!(
            "an extract names at most {BUNDLE_ENTRIES_MAX} parties and keys, and as many blocks"
        ))
        .into());
    }
    let ledger = &published.ledger;
    let registry = ledger.registry();
    let chain = ledger.chain_id();
    let applied = published.head.as_ref().map_or(0, |h| h.header.height);
    if request.height > applied {
        return Err(RequestRefusal::NotYetApplied(format!(
            "this node has applied height {applied}, not yet {}",
            request.height
        ))
        .into());
    }
    index.catch_up(store, registry.head(), chain)?;
    // The proofs are of the registry now: they are the registry at the statement's height only if it
    // has not changed since.
    if index.last_change() > request.height {
        return Err(RequestRefusal::RegistryMoved(format!(
            "the registry changed at height {}, after the statement's {}: ask for the statement again",
            index.last_change(),
            request.height
        ))
        .into());
    }
    let mut parties: BTreeSet<PartyId> = request.parties.iter().copied().collect();
    parties.extend(
        request
            .keys
            .iter()
            .filter_map(|k| registry.by_key(k).map(|p| p.id)),
    );
    let proven: Vec<_> = parties
        .iter()
        .filter_map(|p| registry.prove_party(p))
        .collect();
    let mut ids: Vec<TxId> = index.consortium.clone();
    for party in &parties {
        ids.extend(index.by_party.get(party).into_iter().flatten());
    }
    let history = entries(store, &ids)?;
    // The bundle holds the blocks of the bill's transactions and of these registry entries.
    let heights: BTreeSet<u64> = request
        .blocks
        .iter()
        .copied()
        .chain(history.iter().map(|e| e.receipt.height))
        .collect();
    let proofs = RegistryProofs {
        head: registry.head(),
        root: registry.root(),
        consortium: registry.prove_consortium(),
        parties: proven,
        heads_before: heights
            .into_iter()
            .map(|height| HeadBefore {
                height,
                head: index.head_before(chain, height),
            })
            .collect(),
    };
    Ok(RegistryExtract {
        format: registry.formats().at(request.height),
        proofs,
        history,
    })
}

/// The transactions `ids` with their receipts, in ledger order.
fn entries<K: Kv>(store: &LedgerStore<K>, ids: &[TxId]) -> Result<Vec<HistoryEntry>, StoreError> {
    let mut blocks = BTreeMap::new();
    let mut entries = Vec::with_capacity(ids.len());
    for id in ids {
        let stored = store.transaction(id)?.ok_or_else(|| StoreError::Corrupt {
            what: "history",
            key: id.to_hex(),
            reason: "a registry transaction the chain names is not stored".into(),
        })?;
        let block = match blocks.entry(stored.height) {
            std::collections::btree_map::Entry::Occupied(found) => found.into_mut(),
            std::collections::btree_map::Entry::Vacant(slot) => slot.insert(
                store
                    .block(stored.height)?
                    .ok_or_else(|| StoreError::Corrupt {
                        what: "block",
                        key: stored.height.to_string(),
                        reason: "a stored transaction names a missing block".into(),
                    })?,
            ),
        };
        entries.push(HistoryEntry {
            receipt: receipt_in(block, id)?,
            transaction: stored.tx,
        });
    }
    entries.sort_by_key(|e| (e.receipt.height, e.receipt.index));
    Ok(entries)
}
