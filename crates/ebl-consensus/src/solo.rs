//! A one-member chain's node orders alone: its ledger loaded from its store, and the sequencer's
//! thread started on it. Only the first member's node may: a second ordering node would fork the chain.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use ebl_core::{PartyKey, SigningKey};
use ebl_store::{Kv, LedgerStore, StoreError};
use tokio::sync::mpsc;

use crate::load::{load, seal_key, Loaded};
use crate::metrics::Metrics;
use crate::sequencer::Sequencer;
use crate::state::Published;
use crate::writer::BlockWriter;
use crate::{Consensus, ConsensusError, Options};

/// Loads the ledger from `store` and starts the sequencer.
pub fn start<K: Kv>(
    store: LedgerStore<K>,
    node_key: &SigningKey,
    options: &Options,
) -> Result<Consensus<K>, ConsensusError> {
    let store = store.sealed_with(seal_key(node_key));
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    // A store that lost acknowledged blocks must not go on: new blocks would fork the history.
    store.check_witness()?;
    if Some(PartyKey::of(node_key)) != genesis.first_node() {
        return Err(ConsensusError::WrongNodeKey(PathBuf::from("node.key")));
    }
    let Loaded {
        ledger,
        head,
        dirty_bills,
        dirty_parties,
        since_checkpoint,
        transactions,
    } = load(&store, genesis)?;
    let store = Arc::new(store);
    let metrics = Arc::new(Metrics::default());
    let published = Arc::new(RwLock::new(Published::new(
        ledger.clone(),
        head.as_ref().map(|b| b.header.clone()),
        transactions,
    )));
    let (submissions, rx) = mpsc::channel(options.pending_transactions_max.max(1));
    let sequencer = Sequencer {
        ledger,
        writer: BlockWriter {
            store: store.clone(),
            node_key: node_key.clone(),
            metrics: metrics.clone(),
            head,
            dirty_bills,
            dirty_parties,
            since_checkpoint,
            checkpoint_transactions: options.checkpoint_transactions.max(1),
            checkpoints: crate::checkpoints::Checkpoints::start(store.clone(), metrics.clone())?,
        },
        published: published.clone(),
        newest_format: options.newest_format,
        clock: options.clock.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("sequencer".into())
        .spawn(move || {
            let result = sequencer.run(rx);
            if let Err(e) = &result {
                tracing::error!(error = %e, "storage failed: the sequencer stopped and the node accepts no more transactions");
            }
            result
        })
        .map_err(|source| ConsensusError::Thread {
            what: "sequencer",
            source,
        })?;
    Ok(Consensus {
        store,
        published,
        submissions,
        metrics,
        cluster: None,
        thread,
    })
}
